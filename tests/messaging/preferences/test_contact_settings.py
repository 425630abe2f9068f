"""The borrower's contact settings page: /settings/contact."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.auth.models import ContactPreference, Role
from portal.extensions import db
from tests.conftest import csrf_token, login, page_text
from tests.messaging.sms.conftest import give_phone

URL = "/settings/contact"


@pytest.fixture
def borrower(app, client, make_user):
    """A signed-in English-speaking borrower with a phone; returns the account."""
    account = make_user(Role.BORROWER, locale="en")
    with app.app_context():
        give_phone(account.id, "+8613800138000")
    login(client, account)
    return account


def _preferences(app, borrower_id: int) -> dict[str, bool]:
    with app.app_context():
        rows = db.session.scalars(
            select(ContactPreference).where(ContactPreference.borrower_id == borrower_id)
        ).all()
        return {row.channel.value: row.allowed for row in rows}


def _events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.sequence)
        ).all()
        db.session.expunge_all()
        return list(events)


def _input(html: str, name: str) -> str:
    """The <input> tag of one form field."""
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert match, name
    return match.group(0)


def _save(client, **channels: bool):
    """Submit the form as a browser does: only ticked boxes are sent."""
    data = {"csrf_token": csrf_token(client, URL)}
    data.update({name: "y" for name, on in channels.items() if on})
    return client.post(URL, data=data)


def test_the_page_shows_every_channel_on_and_explains_required_notices(app, client, borrower):
    """All switches start ticked; the page says portal notices and required notices continue."""
    response = client.get(URL)

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for name in ("email", "sms", "phone"):
        assert "checked" in _input(html, name), name
    text = page_text(response)
    assert "Contact preferences" in text
    assert "Notices in your Settle account" in text
    assert "These are always on" in text
    assert "payment receipts, confirmations of repayment plans, and replies to your complaints" in (
        text
    )
    assert "Texts and calls go to +8613800138000." in text


def test_saving_turns_channels_off_and_on_again(app, client, borrower):
    """Unticking SMS and phone opts out of them; ticking them again opts back in."""
    response = _save(client, email=True, sms=False, phone=False)

    assert response.status_code == 302
    assert response.headers["Location"] == URL
    assert "Your contact preferences are saved." in page_text(client.get(URL))
    assert _preferences(app, borrower.id) == {
        "portal": True,
        "email": True,
        "sms": False,
        "phone": False,
    }

    _save(client, email=True, sms=True, phone=True)

    assert _preferences(app, borrower.id)["sms"] is True
    assert _preferences(app, borrower.id)["phone"] is True


def test_each_change_is_audited_with_who_and_where(app, client, borrower):
    """One opt-out event per changed channel, by the borrower, from the settings page."""
    _save(client, email=False, sms=True, phone=True)

    [event] = _events(app, "contact.opt_out")
    assert event.actor_id == borrower.id
    assert event.object_id == str(borrower.id)
    assert event.details == {"channel": "email", "source": "settings_page"}
    assert event.ip_address == "127.0.0.1"


def test_saving_without_changes_records_nothing(app, client, borrower):
    """An unchanged form still confirms the save, but writes no audit event."""
    response = _save(client, email=True, sms=True, phone=True)

    assert response.status_code == 302
    assert _events(app, "contact.opt_out") == []
    assert _events(app, "contact.opt_in") == []


def test_a_ticked_box_shows_as_ticked_after_saving(app, client, borrower):
    """The form reflects the saved choice: SMS unticked, the others ticked."""
    _save(client, email=True, sms=False, phone=True)

    html = client.get(URL).get_data(as_text=True)

    assert "checked" not in _input(html, "sms")
    assert "checked" in _input(html, "email")
    assert "checked" in _input(html, "phone")


def test_a_post_without_csrf_token_is_refused_and_changes_nothing(app, client, borrower):
    """400, and the preferences stay as they were."""
    response = client.post(URL, data={"email": "y"})

    assert response.status_code == 400
    assert _preferences(app, borrower.id)["sms"] is True
    assert _preferences(app, borrower.id)["phone"] is True


@pytest.mark.parametrize("role", [Role.AGENT, Role.COLLECTOR, Role.ADMIN])
def test_staff_get_403(app, client, make_user, role):
    """The page is the borrower's own: every staff role is refused."""
    login(client, make_user(role, locale="en"))

    assert client.get(URL).status_code == 403
    token = csrf_token(client, "/staff/")
    assert client.post(URL, data={"csrf_token": token}).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client):
    """No session: redirected to the login page."""
    response = client.get(URL)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_the_view_declares_its_role(app):
    """The role marker tests/auth/test_roles.py looks for is on the view."""
    view = app.view_functions["messaging_preferences.index"]
    assert view.allowed_roles == (Role.BORROWER,)


def test_portal_notices_cannot_be_turned_off_here(app, client, borrower):
    """A forged "portal" field is ignored: in-portal notices stay on."""
    client.post(URL, data={"csrf_token": csrf_token(client, URL), "portal": ""})

    assert _preferences(app, borrower.id)["portal"] is True


def test_a_borrower_without_a_phone_is_told_so(app, client, make_user):
    """No phone on file: the page says texts and calls cannot reach them."""
    login(client, make_user(Role.BORROWER, locale="en"))

    text = page_text(client.get(URL))

    assert "We have no phone number for you, so we do not text or call you." in text
