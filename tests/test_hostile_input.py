"""Hostile input never answers a server error (issue 9 item 9): every route, many forms."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest

from portal.auth.models import Role
from portal.extensions import db
from portal.loans.models import PaymentMethod
from portal.loans.services import record_payment
from tests.conftest import Account, login

OUT_OF_RANGE_IDS = (2**31, 10**30)  # past INTEGER; past what the driver binds


ARGUMENT = re.compile(r"<(?:(\w+):)?(\w+)>")
# Static files, and the routes that would sign the walking client out half-way.
SKIPPED = {"static", "auth.logout", "auth.sign_out_everywhere_self", "auth.login"}
QUERY_NAMES = ("page", "version", "before", "collector", "days", "stage", "id", "user_id")


def _id_paths(app, bad_id: int) -> list[tuple[str, set[str]]]:
    """Every rule but static files: ids replaced by ``bad_id``, other arguments by "x", and
    query parameters that name ids or pages set to ``bad_id`` too."""
    query = "&".join(f"{name}={bad_id}" for name in QUERY_NAMES)
    paths = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED:
            continue
        path = ARGUMENT.sub(lambda m: str(bad_id) if m.group(1) == "int" else "x", rule.rule)
        paths.append((f"{path}?{query}", set(rule.methods or ()) & {"GET", "POST"}))
    return paths


@pytest.mark.parametrize("role", [Role.ADMIN, Role.COLLECTOR, Role.BORROWER])
def test_out_of_range_ids_in_urls_answer_4xx(app, client, make_user, role):
    """Every ``<int:...>`` route with an id beyond 64 bits answers 404 (no 5xx), per role."""
    login(client, make_user(role))
    app.config["WTF_CSRF_ENABLED"] = False
    failures = []
    for bad_id in OUT_OF_RANGE_IDS:
        for path, methods in _id_paths(app, bad_id):
            for method in methods:
                response = client.open(path, method=method, data={"x": "1"})
                response.close()  # a streamed CSV keeps its request context until closed
                if response.status_code >= 500:
                    failures.append((method, path, response.status_code))
    assert not failures


HOSTILE_VALUES = (
    "x" * 100_000,
    "a\x00b",
    "a\x01b",
    "a\u202eb",
    "１２",
    "²",
    "1e999999",
    "NaN",
    "-1",
    str(10**30),
    "",
    "0001-01-01",
    "9999-12-31",
)
FIELD_NAME = re.compile(r'<(?:input|textarea|select)[^>]*\bname="([^"]+)"')
MAX_FIELDS = 12  # per form: enough to reach every kind of field, quick enough to run often
# Switches and choices only: any post of it is a valid save (hostile values are ignored).
SAVES_ANY_POST = ("/settings/contact",)
FORMS = (  # (who, the page with the form, where it posts)
    (None, "/login", "/login"),
    (Role.BORROWER, "/settings/contact", "/settings/contact"),
    (Role.BORROWER, "/settings/emergency-contacts", "/settings/emergency-contacts"),
    (Role.ADMIN, "/staff/messaging/terms", "/staff/messaging/terms"),
    (Role.ADMIN, "/staff/collections/strategy", "/staff/collections/strategy"),
    (Role.BORROWER, "/support/chat", "/support/chat"),
    (Role.AGENT, "/staff/support/", "/staff/support/presence"),
    (
        Role.ADMIN,
        "/staff/messaging/templates/due_today/sms/en",
        "/staff/messaging/templates/due_today/sms/en",
    ),
    (
        Role.ADMIN,
        "/staff/messaging/templates/due_today/sms/en",
        "/staff/messaging/templates/preview",
    ),
    (Role.BORROWER, "/complaints/new", "/complaints/new"),
    (Role.ADMIN, "/staff/complaints/calendar/CN", "/staff/complaints/calendar/CN"),
)


def _audit_events(app) -> int:
    from sqlalchemy import func, select

    from portal.audit.models import AuditEvent
    from portal.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count(AuditEvent.id))) or 0


@pytest.mark.parametrize(("role", "page", "target"), FORMS)
def test_hostile_values_in_every_field_answer_no_server_error_and_store_nothing(
    app, client, make_user, role, page, target
):
    """Each hostile value in each field of a form: never a 5xx, and no audited save."""
    if role is not None:
        login(client, make_user(role))
    fields = [n for n in dict.fromkeys(FIELD_NAME.findall(client.get(page).get_data(as_text=True)))]
    fields = [name for name in fields if name != "csrf_token"][:MAX_FIELDS]
    assert fields
    app.config["WTF_CSRF_ENABLED"] = False
    before = _audit_events(app)
    failures = []
    for name in fields:
        for value in HOSTILE_VALUES:
            response = client.post(target, data={name: value})
            response.close()
            if response.status_code >= 500:
                failures.append((name, value[:20], response.status_code))
            if "\x00" in value:
                assert response.status_code in (400, 429), (name, response.status_code)
    assert not failures
    if not target.endswith(SAVES_ANY_POST):
        assert _audit_events(app) == before


@pytest.mark.parametrize(
    "target", ["/staff/messaging/templates/due_today/sms/en", "/staff/messaging/templates/preview"]
)
def test_a_template_post_without_its_fields_answers_4xx(app, client, make_user, target):
    """A template save or preview missing ``body_text`` (or everything) is refused, not 500."""
    login(client, make_user(Role.ADMIN))
    app.config["WTF_CSRF_ENABLED"] = False
    before = _audit_events(app)
    for data in ({}, {"subject": "x"}, {"body_html": "<p>x</p>"}):
        assert 400 <= client.post(target, data=data).status_code < 500
    assert _audit_events(app) == before


# --- Every field of the case, legal, rulebook, charge and payment forms -------------------


class _FormFields(HTMLParser):
    """The fields a page's form posting to ``action`` sends as the page shows them: the values
    a browser would post unchanged (text as shown, checked boxes, a select's chosen option)."""

    def __init__(self, action: str):
        super().__init__()
        self.action, self.page, self.inside, self.found = action, action, False, False
        self.values: dict[str, str] = {}
        self.names: list[str] = []
        self.switches: set[str] = set()  # checkboxes: any value sent means "on"
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            action = a.get("action") or self.page  # no action: the form posts to its page
            self.inside = action.split("?")[0].split("#")[0] == self.action
            self.found = self.found or self.inside
        if not self.inside or "name" not in a or a["name"] == "csrf_token":
            if tag == "option" and self.inside and self._select:
                if self._select not in self.values or "selected" in a:
                    self.values[self._select] = a.get("value", "")
            return
        name = a["name"]
        if name not in self.names:
            self.names.append(name)
        if a.get("type") == "checkbox":
            self.switches.add(name)
        if tag == "input" and a.get("type") in ("checkbox", "radio"):
            if "checked" in a:
                self.values[name] = a.get("value", "y")
        elif tag == "input" and a.get("type") != "submit":
            self.values.setdefault(name, a.get("value", ""))
        elif tag == "select":
            self._select = name
        elif tag == "textarea":
            self._textarea = name
            self.values[name] = ""

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form_fields(html: str, action: str, page: str) -> tuple[list[str], dict, bool, set[str]]:
    """The names of the fields of the form posting to ``action`` on ``page``, the values the
    page filled in, whether the form is there at all, and its checkboxes."""
    parser = _FormFields(action)
    parser.page = page
    parser.feed(html)
    return parser.names, parser.values, parser.found, parser.switches


def _rows(app) -> dict[str, int]:
    """Rows per table but the ones any request writes (sessions, rate limits, login records)."""
    from sqlalchemy import func, select

    from portal.extensions import db

    with app.app_context():
        return {
            table.name: db.session.scalar(select(func.count()).select_from(table)) or 0
            for table in db.metadata.sorted_tables
        }


@dataclass(frozen=True)
class World:
    collector: Account
    admin: Account
    borrower: Account
    case_id: int
    loan_id: int
    fresh_case_id: int
    contact_id: int
    payment_id: int
    issue_id: int


@pytest.fixture
def world(app, make_user, make_loan, monkeypatch) -> World:
    """A stage-3 case whose legal request was approved (with an emergency contact and a card
    payment booked on its loan), a second one whose request waits for the admin, a third with
    none yet (the same collector has all three), and an open payment issue."""
    from sqlalchemy import update

    from portal.collections.models import CollectionCase
    from portal.messaging.emergency_contacts.services import add_contact
    from portal.payments.models import IssueKind, PaymentIssue
    from tests.collections.conftest import freeze
    from tests.collections.legal.conftest import (
        NOW,
        approved_case,
        open_case,
        request_approval,
        signed_in,
    )

    case, _, admin = approved_case(app, make_user, make_loan)
    pending = open_case(app, make_user, make_loan)
    assert request_approval(signed_in(app, pending.collector), pending).status_code == 303
    fresh = open_case(app, make_user, make_loan)
    with app.app_context():
        db.session.execute(
            update(CollectionCase)
            .where(CollectionCase.id == fresh.case_id)
            .values(assigned_to=case.collector.id)
        )
        contact = add_contact(
            case.borrower.id,
            name="Li Wei",
            phone="+8613900139000",
            relationship="sibling",
            now=NOW,
            actor_id=case.borrower.id,
        )
        payment = record_payment(
            loan_id=case.loan_id,
            amount_minor=10_000,
            currency="CNY",
            method=PaymentMethod.CARD,
            received_at=NOW,
            external_reference="pi_hostile000001abcdef",
            keep_surplus=True,
        )
        issue = PaymentIssue(
            kind=IssueKind.AMOUNT_MISMATCH, detail="pi_1: 1 asked", event_id="evt_1", created_at=NOW
        )
        db.session.add(issue)
        db.session.commit()
        ids = contact.id, payment.id, issue.id
    freeze(monkeypatch, NOW)
    return World(
        case.collector, admin, case.borrower, case.case_id, case.loan_id, fresh.case_id, *ids
    )


CASE = "/staff/collections/cases/{w.case_id}"
CASE_FORMS = (  # (who, the page with the form, where it posts); {w} is the World
    ("collector", CASE, CASE + "/notes"),
    ("collector", CASE, CASE + "/promises"),
    ("collector", CASE, CASE + "/callback"),
    ("collector", CASE, CASE + "/calls"),
    ("collector", CASE, CASE + "/messages"),
    ("collector", CASE, CASE + "/assessments"),
    ("collector", CASE, CASE + "/reveal"),
    ("collector", CASE, CASE + "/emergency-contacts/{w.contact_id}/messages"),
    ("collector", CASE, CASE + "/late-charges/waive"),
    ("admin", CASE, CASE + "/assign"),
    (
        "collector",
        "/staff/collections/cases/{w.fresh_case_id}/legal/request",
        "/staff/collections/cases/{w.fresh_case_id}/legal/request",
    ),
    ("admin", "/staff/collections/legal/requests", "/staff/collections/legal/requests"),
    ("admin", CASE + "/legal/request", CASE + "/legal/letter"),
    ("admin", CASE + "/legal/request", CASE + "/legal/placement"),
    ("admin", "/staff/messaging/rulebooks", "/staff/messaging/rulebooks/lender"),
    ("admin", "/staff/messaging/rulebooks", "/staff/messaging/rulebooks/{code}"),
    ("admin", "/staff/loans/charges", "/staff/loans/charges/wallet_cash"),
    ("admin", "/staff/payments/{w.payment_id}/refund", "/staff/payments/{w.payment_id}/refund"),
    ("admin", "/staff/payments/issues", "/staff/payments/issues/{w.issue_id}/resolve"),
    ("borrower", "/loans/{w.loan_id}/pay", "/loans/{w.loan_id}/pay"),
    ("borrower", "/loans/{w.loan_id}/plans", "/loans/{w.loan_id}/plans"),
    ("borrower", "/loans/{w.loan_id}/plans", "/loans/{w.loan_id}/plans/enroll"),
    ("collector", CASE, CASE + "/plans/propose"),
    ("borrower", "/payments/{attempt}", "/payments/{attempt}/sandbox"),
)
REFUSED_EVERYWHERE = ("a\x00b", "a\x01b", "a\u202eb")  # the control-character guard: 400
STORE_NOTHING = (*REFUSED_EVERYWHERE, HOSTILE_VALUES[0])  # and text beyond any field's length


def _hostile_posts(app, client, page: str, target: str) -> list[tuple]:
    """Post each hostile value into each field of the form, alone (nothing else sent) and in
    the form as the page fills it. Returns the failures: a 5xx, a control character past the
    guard, or a control character or an oversized text that stored something."""
    html = client.get(page).get_data(as_text=True)
    names, shown, found, switches = form_fields(html, target, page)
    assert found, (page, target)
    # A form of a button only (any post is a press) gets a field it does not expect.
    may_store = set(switches) | ({"unexpected"} if not names else set())
    names = names or ["unexpected"]
    failures = []
    for values in (STORE_NOTHING, tuple(v for v in HOSTILE_VALUES if v not in STORE_NOTHING)):
        before = _rows(app)
        for data in (
            {**base, name: value}
            for base in ({}, shown)
            for name in names
            for value in values
            if values is not STORE_NOTHING or name not in may_store or value != values[-1]
        ):
            status = client.post(target, data=data).status_code
            if status >= 500 or (set(data.values()) & set(REFUSED_EVERYWHERE) and status != 400):
                failures.append((target, {k: v[:20] for k, v in data.items()}, status))
        if values is STORE_NOTHING and _rows(app) != before:
            failures.append(
                (target, "stored", {t for t, n in _rows(app).items() if n != before[t]})
            )
    return failures


@pytest.mark.parametrize("who", ["collector", "admin", "borrower"])
def test_hostile_values_in_every_case_legal_rulebook_charge_and_payment_field(
    app, client, world, who
):
    """Each hostile value in each field of every case-action, legal, rulebook, late-charge and
    payment form, alone or in an otherwise filled form: never a 5xx, the guard refuses
    control characters, and posts of a lone field store nothing."""
    from portal.messaging.rulebooks import BUILT_IN

    login(client, getattr(world, who))
    app.config["WTF_CSRF_ENABLED"] = False
    pay = f"/loans/{world.loan_id}/pay"
    attempt = ""
    if who == "borrower":  # the sandbox checkout of the overdue amount
        _, shown, _, _ = form_fields(client.get(pay).get_data(as_text=True), pay, pay)
        attempt = client.post(pay, data=shown).headers["Location"].rsplit("/", 1)[-1]
    failures = []
    for role, page, target in CASE_FORMS:
        if role != who:
            continue
        for code in BUILT_IN if "{code}" in target else ("",):
            failures += _hostile_posts(
                app,
                client,
                page.format(w=world, attempt=attempt),
                target.format(w=world, code=code, attempt=attempt),
            )
    assert not failures


@pytest.mark.parametrize(
    "page",
    [
        "/staff/reports/overdue",
        "/staff/reports/overdue.csv",
        "/staff/reports/portfolio",
        "/staff/complaints/",
    ],
)
def test_hostile_values_in_every_report_filter_answer_no_server_error(app, client, make_user, page):
    """Each hostile value in each filter of a report's query string: never a 5xx."""
    login(client, make_user(Role.ADMIN))
    html = client.get(page.removesuffix(".csv")).get_data(as_text=True)
    names = [n for n in dict.fromkeys(FIELD_NAME.findall(html)) if n != "csrf_token"]
    assert names
    failures = []
    for name in names:
        for value in HOSTILE_VALUES:
            response = client.get(page, query_string={name: value})
            response.close()
            if response.status_code >= 500:
                failures.append((name, value[:20], response.status_code))
    assert not failures


COMPLAINT = "/staff/complaints/{id}"
COMPLAINT_FORMS = (  # (who, the page with the form, where it posts); {id}, {ref}: the complaint
    ("admin", COMPLAINT, COMPLAINT + "/message"),
    ("admin", COMPLAINT, COMPLAINT + "/assign"),
    ("admin", COMPLAINT, COMPLAINT + "/extend"),
    ("admin", COMPLAINT, COMPLAINT + "/escalate"),
    ("admin", COMPLAINT, COMPLAINT + "/subject"),
    ("admin", COMPLAINT, COMPLAINT + "/acknowledge"),  # then the resolution form shows
    ("admin", COMPLAINT, COMPLAINT + "/resolve"),
    ("borrower", "/complaints/{ref}", "/complaints/{ref}/reply"),
    ("borrower", "/complaints/{ref}", "/complaints/{ref}/withdraw"),
)


@pytest.mark.parametrize("who", ["admin", "borrower"])
def test_hostile_values_in_every_complaint_form(app, client, make_user, make_loan, who):
    """Each hostile value in each field of the complaint console and the borrower's complaint
    page: never a 5xx, the guard refuses control characters, lone fields store nothing."""
    from tests.complaints.conftest import World, file

    borrower = make_user(Role.BORROWER)
    admin = make_user(Role.ADMIN)
    with app.app_context():
        complaint = file(World(borrower.id, make_loan(borrower.id), 0, 0, 0, admin.id, 0))
        db.session.commit()
        ids = {"id": complaint.id, "ref": complaint.reference}
    login(client, admin if who == "admin" else borrower)
    app.config["WTF_CSRF_ENABLED"] = False
    failures = []
    for role, page, target in COMPLAINT_FORMS:
        if role == who:
            failures += _hostile_posts(app, client, page.format(**ids), target.format(**ids))
    assert not failures
