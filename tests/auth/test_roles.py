"""Every route is authorized: anonymous users are sent to sign in, wrong roles get 403."""

import re

import pytest

from portal.auth.models import Role
from tests.conftest import login

PUBLIC_ENDPOINTS = {
    "static",
    "health.healthz",
    "auth.login",
    "i18n.switch_language",
    "loans.dashboard",
    # Authorized by a signed token or the provider's signature instead of a session:
    "messaging_unsubscribe.confirm",
    "messaging_unsubscribe.submit",
    "messaging_sms.status",
    "messaging_sms.inbound",
    "payments_webhooks.stripe_webhook",
}
STAFF = (Role.AGENT, Role.COLLECTOR, Role.ADMIN)


def _url(rule, number: str) -> str:
    """A concrete URL for a rule: numbers for int parts, a word for the rest."""
    return re.sub(r"<[^>]+>", "x", re.sub(r"<int:\w+>", number, rule.rule))


def _get_rules(app):
    return [rule for rule in app.url_map.iter_rules() if "GET" in rule.methods]


def test_every_non_public_view_declares_roles(app):
    """No view is left without a role check (the decorator leaves a marker on the view)."""
    unchecked = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS or rule.endpoint == "auth.logout":
            continue
        view = app.view_functions[rule.endpoint]
        if not getattr(view, "allowed_roles", None):
            unchecked.append(rule.endpoint)
    assert unchecked == []


def test_anonymous_users_are_sent_to_sign_in(app, client):
    """Every protected GET route redirects an anonymous visitor to /login."""
    for rule in _get_rules(app):
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        url = _url(rule, "1")
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login"), url


@pytest.mark.parametrize("role", [Role.BORROWER, *STAFF])
def test_roles_reach_only_their_routes(app, client, make_user, role):
    """Each role gets 403 on every GET route it is not allowed, and through on its own."""
    login(client, make_user(role))
    for rule in _get_rules(app):
        view = app.view_functions[rule.endpoint]
        allowed = getattr(view, "allowed_roles", None)
        if allowed is None:
            continue
        url = _url(rule, "999999")
        status = client.get(url).status_code
        if role in allowed:
            assert status in (200, 404), (url, status)  # 404: no such loan, still authorized
        else:
            assert status == 403, (url, status)


COMPLAINT_ROUTES = {  # endpoint -> the roles that reach it (issue 13)
    "complaints.index": {Role.BORROWER},
    "complaints.new": {Role.BORROWER},
    "complaints.detail": {Role.BORROWER},
    "complaints.reply": {Role.BORROWER},
    "complaints.withdraw_complaint": {Role.BORROWER},
    "complaints.reopen_complaint": {Role.BORROWER},
    "complaints.rate_answer": {Role.BORROWER},
    "complaints.attachment": {Role.BORROWER},
    "complaints_staff.queue": {Role.AGENT, Role.ADMIN},
    "complaints_staff.complaint": {Role.AGENT, Role.ADMIN},
    "complaints_staff.acknowledge": {Role.AGENT, Role.ADMIN},
    "complaints_staff.investigate": {Role.AGENT, Role.ADMIN},
    "complaints_staff.message": {Role.AGENT, Role.ADMIN},
    "complaints_staff.request_information": {Role.AGENT, Role.ADMIN},
    "complaints_staff.extend": {Role.AGENT, Role.ADMIN},
    "complaints_staff.assign": {Role.AGENT, Role.ADMIN},
    "complaints_staff.escalate": {Role.AGENT, Role.ADMIN},
    "complaints_staff.subject": {Role.AGENT, Role.ADMIN},
    "complaints_staff.resolve_complaint": {Role.AGENT, Role.ADMIN},
    "complaints_staff.close": {Role.AGENT, Role.ADMIN},
    "complaints_staff.reopen": {Role.AGENT, Role.ADMIN},
    "complaints_staff.attachment": {Role.AGENT, Role.ADMIN},
    "complaints_staff.calendar": {Role.ADMIN},
    "complaints_staff.calendar_delete": {Role.ADMIN},
}


def test_complaint_routes_are_for_borrowers_or_handlers_only(app):
    """Complaint pages: borrowers their own side, agents and admins the console (never
    collectors, who may be the subject of a complaint), admins alone the business calendar."""
    routed = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".")[0] in ("complaints", "complaints_staff")
    }
    assert routed == set(COMPLAINT_ROUTES)
    for endpoint, roles in COMPLAINT_ROUTES.items():
        assert set(app.view_functions[endpoint].allowed_roles) == roles, endpoint
