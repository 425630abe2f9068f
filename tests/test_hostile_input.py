"""Hostile input never answers a server error (issue 9 item 9): every route, many forms."""

from __future__ import annotations

import re

import pytest

from portal.auth.models import Role
from tests.conftest import login

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
SAVES_ANY_POST = {"/settings/contact"}
FORMS = (  # (who, the page with the form, where it posts)
    (None, "/login", "/login"),
    (Role.BORROWER, "/settings/contact", "/settings/contact"),
    (Role.BORROWER, "/settings/emergency-contacts", "/settings/emergency-contacts"),
    (Role.ADMIN, "/staff/messaging/terms", "/staff/messaging/terms"),
    (Role.ADMIN, "/staff/collections/strategy", "/staff/collections/strategy"),
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
    if target not in SAVES_ANY_POST:
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
