"""The case page: masked contact data and its audited reveal, access, the merged timeline."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.audit.services import record as audit
from portal.auth.models import BorrowerProfile, Channel, Role
from portal.collections.models import (
    ArrearsReason,
    Assessment,
    CaseNote,
    CaseTransition,
    CollectionCase,
    LegalRequest,
    LegalStatus,
    PromiseStatus,
    PromiseToPay,
    Willingness,
)
from portal.extensions import db
from portal.loans.models import PaymentMethod
from portal.loans.services import record_payment
from portal.messaging.models import (
    CallOutcome,
    ContactDecisionRecord,
    ContactKind,
    Message,
    MessageStatus,
    PortalSetting,
)
from tests.collections.conftest import NOW, TODAY, freeze, make_case
from tests.conftest import count_queries, csrf_token, login, page_text

PHONE = "+8613800138000"


@pytest.fixture
def setup(app, make_user, make_loan):
    """A borrower with a phone number, a loan, a case assigned to a collector; their ids."""
    borrower = make_user(Role.BORROWER, email="wang.fang@demo.test", name="Wang Fang")
    with app.app_context():
        db.session.get(BorrowerProfile, borrower.id).phone = PHONE
        db.session.commit()
    collector = make_user(Role.COLLECTOR, locale="en", name="Zhao Ming")
    loan_id = make_loan(borrower.id)
    case_id = make_case(app, borrower_id=borrower.id, loan_id=loan_id, assigned_to=collector.id)
    return {"borrower": borrower, "collector": collector, "loan_id": loan_id, "case_id": case_id}


def _url(setup, suffix: str = "") -> str:
    return f"/staff/collections/cases/{setup['case_id']}{suffix}"


def test_contact_data_is_masked(client, setup):
    """Phone and email show as 138****8000 and w***@demo.test; the full values are not sent."""
    login(client, setup["collector"])

    response = client.get(_url(setup))

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "138****8000" in html
    assert "w***@demo.test" in html
    assert "13800138000" not in html
    assert "wang.fang@demo.test" not in html


def _audit_events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_reveal_shows_the_field_for_that_page_view_and_is_audited(app, client, setup):
    """Revealing the phone shows it once, records who saw which field; a reload masks it again."""
    login(client, setup["collector"])
    token = csrf_token(client, _url(setup))

    revealed = client.post(_url(setup, "/reveal"), data={"field": "phone", "csrf_token": token})

    html = revealed.get_data(as_text=True)
    assert revealed.status_code == 200
    assert revealed.headers["Cache-Control"] == "no-store"
    assert PHONE in html
    assert "w***@demo.test" in html  # only the field asked for
    events = _audit_events(app, "case.pii_revealed")
    assert [(e.actor_id, e.object_id, e.details) for e in events] == [
        (setup["collector"].id, str(setup["case_id"]), {"field": "phone"})
    ]
    assert PHONE not in client.get(_url(setup)).get_data(as_text=True)


def test_reveal_answers_json_for_the_page_script(app, client, setup):
    """The page's script asks for JSON and gets the value to put in place."""
    login(client, setup["collector"])
    token = csrf_token(client, _url(setup))

    response = client.post(
        _url(setup, "/reveal"),
        data={"field": "email", "csrf_token": token},
        headers={"Accept": "application/json"},
    )

    assert response.get_json() == {"field": "email", "value": "wang.fang@demo.test"}
    assert [e.details for e in _audit_events(app, "case.pii_revealed")] == [{"field": "email"}]


def test_reveal_needs_csrf_and_a_known_field(app, client, setup):
    """No token: refused; an unknown field: refused; neither is audited."""
    login(client, setup["collector"])
    token = csrf_token(client, _url(setup))

    assert client.post(_url(setup, "/reveal"), data={"field": "phone"}).status_code == 400
    unknown = client.post(_url(setup, "/reveal"), data={"field": "name", "csrf_token": token})
    assert unknown.status_code == 422
    assert _audit_events(app, "case.pii_revealed") == []


def test_collector_cannot_open_another_collectors_case(app, client, make_user, setup):
    """A clear 403 page says whose case it is not; revealing is refused the same way."""
    login(client, make_user(Role.COLLECTOR, locale="en"))

    response = client.get(_url(setup))

    assert response.status_code == 403
    assert "This case is assigned to another collector." in page_text(response)
    reveal = client.post(
        _url(setup, "/reveal"), data={"field": "phone", "csrf_token": csrf_token(client, "/staff/")}
    )
    assert reveal.status_code == 403
    assert _audit_events(app, "case.pii_revealed") == []


def test_case_visibility_all_lets_any_collector_open_the_case(app, client, make_user, setup):
    """With the portal setting case_visibility=all, another collector may open the case."""
    with app.app_context():
        db.session.add(PortalSetting(key="case_visibility", value="all"))
        db.session.commit()
    login(client, make_user(Role.COLLECTOR, locale="en"))

    assert client.get(_url(setup)).status_code == 200


def test_admins_open_every_case_and_unknown_cases_are_404(client, make_user, setup):
    """Admins open any case; a case id that does not exist is 404, not 403."""
    login(client, make_user(Role.ADMIN, locale="en"))

    assert client.get(_url(setup)).status_code == 200
    assert client.get("/staff/collections/cases/987654").status_code == 404


def test_case_page_shows_loans_and_schedule(client, setup):
    """The borrower's loan with its installments and overdue rows is on the page."""
    login(client, setup["collector"])

    response = client.get(_url(setup))

    html = response.get_data(as_text=True)
    assert html.count('data-testid="schedule"') == 1
    assert "LN-T" in page_text(response)
    assert "table-danger" in html  # an overdue installment is marked


def test_legal_button_links_to_the_legal_request_form(app, client, setup):
    """The escalation button goes to collections_legal.request_form once it exists."""
    login(client, setup["collector"])

    html = client.get(_url(setup)).get_data(as_text=True)

    if "collections_legal.request_form" in app.view_functions:
        assert f'href="/staff/collections/cases/{setup["case_id"]}/legal/request"' in html
    else:
        assert re.search(r'<button[^>]*disabled[^>]*data-testid="legal-link"', html)


def test_a_case_already_escalated_links_to_its_legal_page_not_to_a_new_request(app, client, setup):
    """Once legal approval is requested or given, the button reads "Legal escalation"."""
    login(client, setup["collector"])
    assert "Request legal approval" in page_text(client.get(_url(setup)))
    with app.app_context():
        db.session.get(CollectionCase, setup["case_id"]).legal_status = LegalStatus.APPROVED
        db.session.commit()

    text = page_text(client.get(_url(setup)))

    assert "Legal escalation" in text
    assert "Request legal approval" not in text


def _add_every_kind_of_event(app, setup, offset: timedelta = timedelta(0)) -> None:
    """One event of each kind, an hour apart, ``offset`` later than the base times."""
    at = [NOW - timedelta(hours=10 - n) + offset for n in range(10)]
    case_id, loan_id, borrower_id = setup["case_id"], setup["loan_id"], setup["borrower"].id
    actor = setup["collector"].id
    with app.app_context():
        run_on = TODAY - timedelta(days=int(offset.total_seconds() // 86400) + 1)
        db.session.add(
            CaseTransition(
                case_id=case_id, kind="stage", from_stage=1, to_stage=2, reason="4 dpd",
                run_on=run_on, created_at=at[0],
            )
        )  # fmt: skip
        message = Message(
            idempotency_key=f"m{offset}", borrower_id=borrower_id, loan_id=loan_id,
            purpose="overdue_stage_1", kind=ContactKind.COLLECTION, channel=Channel.SMS,
            locale="en", status=MessageStatus.BLOCKED, blocked_rule="opt_out:sms",
            not_before=at[1], created_at=at[1],
        )  # fmt: skip
        call = Message(
            idempotency_key=f"c{offset}", borrower_id=borrower_id, loan_id=loan_id,
            purpose="collection_call", kind=ContactKind.COLLECTION, channel=Channel.PHONE,
            locale="en", status=MessageStatus.SENT, not_before=at[3], sent_at=at[3],
            call_outcome=CallOutcome.NO_ANSWER, created_by=actor, created_at=at[3],
        )  # fmt: skip
        db.session.add_all([message, call])
        db.session.flush()

        def decision(message_id, when, outcome, rule, channel):
            return ContactDecisionRecord(
                borrower_id=borrower_id, message_id=message_id, channel=channel,
                kind=ContactKind.COLLECTION, outcome=outcome, rule=rule, rulebook="CN",
                rulebook_version=0, decided_at=when, decided_by=actor,
            )  # fmt: skip

        db.session.add_all(
            [
                decision(message.id, at[1], "block", "opt_out:sms", Channel.SMS),
                decision(None, at[2], "defer", "quiet_hours", Channel.PHONE),  # on its own
                decision(None, at[3], "send", "allowed", Channel.PHONE),  # the call's check
            ]
        )
        record_payment(
            loan_id=loan_id, amount_minor=1_000, currency="CNY", method=PaymentMethod.ALIPAY,
            received_at=at[4],
        )  # fmt: skip
        audit(
            "case.callback_set", now=at[4] + timedelta(minutes=30), actor_id=actor,
            object_type="collection_case", object_id=case_id,
            details={"callback_at": (NOW + timedelta(days=1)).isoformat()},
        )  # fmt: skip
        db.session.add_all(
            [
                PromiseToPay(
                    case_id=case_id, amount_minor=2_000, currency="CNY", promised_on=TODAY,
                    made_at=at[5], status=PromiseStatus.BROKEN, created_by=actor,
                ),
                CaseNote(case_id=case_id, body="<b>called twice</b>", author_id=actor,
                         created_at=at[6]),
                Assessment(
                    case_id=case_id, income_situation="Part-time work", monthly_income_minor=None,
                    arrears_reason=ArrearsReason.JOB_LOSS, willingness=Willingness.PARTLY,
                    can_pay_minor_per_month=50_000, next_step="Offer a plan", author_id=actor,
                    created_at=at[7],
                ),
                LegalRequest(
                    case_id=case_id, requested_by=actor, requested_at=at[8],
                    reason="No payment in 90 days", checklist={}, decided_by=actor,
                    decided_at=at[9], decision="approved",
                ),
            ]
        )  # fmt: skip
        db.session.commit()


def test_timeline_merges_every_kind_of_event_newest_first(app, client, setup, monkeypatch):
    """Transitions, messages, refused calls, calls, payments, callbacks, promises, notes,
    assessments and legal steps are on one timeline, newest first, each guard decision with its
    message, a refused call with the rule that refused it."""
    freeze(monkeypatch, NOW)
    _add_every_kind_of_event(app, setup)
    login(client, setup["collector"])

    response = client.get(_url(setup))

    html = response.get_data(as_text=True)
    entries = re.findall(r'data-testid="timeline-entry" data-kind="(\w+)" data-at="([^"]+)"', html)
    assert [kind for kind, _ in entries] == [
        "legal_decision",
        "legal_request",
        "assessment",
        "note",
        "promise",
        "callback",
        "payment",
        "call",
        "refused_call",
        "message",
        "transition",
    ]
    times = [at for _, at in entries]
    assert times == sorted(times, reverse=True)
    text = page_text(response)
    assert "No answer" in text
    assert "(4 days past due)" in text  # the recorded reason "4 dpd", in words
    assert "the borrower opted out of this channel" in text
    assert "Call refused by the contact rules : outside the contact hours" in text
    assert "Callback scheduled : for 11/29/26" in text  # in the borrower’s time
    assert html.count('data-testid="guard-decision"') == 2  # on the message and on the call
    assert "built-in rules)" in text  # rulebook version 0, never "v0"
    assert " v0" not in text
    assert "&lt;b&gt;called twice&lt;/b&gt;" in html  # what people write is escaped


def test_case_page_queries_do_not_grow_with_the_timeline(app, client, make_loan, setup):
    """One event of each kind or four of each, and another loan: the same number of queries."""
    _add_every_kind_of_event(app, setup)
    login(client, setup["collector"])
    with_few = count_queries(app, client, _url(setup))
    for days in (1, 2, 3):
        _add_every_kind_of_event(app, setup, offset=timedelta(days=days))
    make_loan(setup["borrower"].id)

    assert count_queries(app, client, _url(setup)) == with_few


def test_queue_links_to_the_case_page(client, setup):
    """The queue row opens the case."""
    login(client, setup["collector"])

    html = client.get("/staff/collections/queue").get_data(as_text=True)

    assert f'href="/staff/collections/cases/{setup["case_id"]}"' in html
