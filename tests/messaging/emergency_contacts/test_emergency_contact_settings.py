"""The borrower's emergency contacts page: /settings/emergency-contacts."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.auth.models import Role
from portal.extensions import db
from portal.messaging.emergency_contacts.services import add_contact
from portal.messaging.models import EmergencyContact
from tests.conftest import csrf_token, login, page_text
from tests.messaging.conftest import NOON_SHANGHAI
from tests.messaging.sms.conftest import give_phone

URL = "/settings/emergency-contacts"


@pytest.fixture
def borrower(app, client, make_user):
    """A signed-in English-speaking borrower with a phone; returns the account."""
    account = make_user(Role.BORROWER, locale="en")
    with app.app_context():
        give_phone(account.id, "+8613800138000")
    login(client, account)
    return account


def _add(client, **fields):
    data = {"name": "Li Wei", "phone": "+86 139 0013 9000", "relationship": "friend", **fields}
    return client.post(URL, data={**data, "csrf_token": csrf_token(client, URL)})


def _contacts(app, borrower_id: int) -> list[tuple[str, str, str, bool]]:
    with app.app_context():
        return [
            (c.name, c.phone, c.relationship_to_borrower, c.removed_at is not None)
            for c in db.session.scalars(
                select(EmergencyContact)
                .where(EmergencyContact.borrower_id == borrower_id)
                .order_by(EmergencyContact.id)
            )
        ]


def _value(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', html)
    assert match, name
    return match.group(1)


def _contact_of(app, borrower_id: int, phone: str = "+8613900139000") -> int:
    with app.app_context():
        contact = add_contact(
            borrower_id,
            name="Zhang San",
            phone=phone,
            relationship="sibling",
            now=NOON_SHANGHAI,
            actor_id=borrower_id,
        )
        db.session.commit()
        return contact.id


def test_the_contact_settings_page_links_to_emergency_contacts(client, borrower):
    """The preferences page leads to the emergency contacts page."""
    html = client.get("/settings/contact").get_data(as_text=True)

    assert f'href="{URL}"' in html


def test_adding_a_contact_saves_it_normalised_and_lists_it(app, client, borrower):
    """Saved in E.164, audited with who and where, shown with its relationship."""
    response = _add(client)

    assert response.status_code == 303
    assert response.headers["Location"] == URL
    assert _contacts(app, borrower.id) == [("Li Wei", "+8613900139000", "friend", False)]
    with app.app_context():
        [event] = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "emergency_contact.added")
        ).all()
        assert (event.actor_id, event.ip_address) == (borrower.id, "127.0.0.1")
    text = page_text(client.get(URL))
    assert "The emergency contact is saved." in text
    assert "Li Wei" in text
    assert "Friend · +8613900139000" in text


def test_a_bad_phone_number_is_refused_in_english_and_the_input_is_kept(app, client, borrower):
    """422, the error next to the field, and every field as typed."""
    response = _add(client, name="Li Wei", phone="139 0013 9000", relationship="parent")

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Enter the mobile number with its country code" in page_text(response)
    assert 'name="phone"' in html
    assert "is-invalid" in re.search(r'<input[^>]*name="phone"[^>]*>', html).group(0)
    assert _value(html, "name") == "Li Wei"
    assert _value(html, "phone") == "139 0013 9000"
    assert re.search(r'<option selected value="parent">|<option value="parent" selected', html)
    assert _contacts(app, borrower.id) == []


def test_the_phone_error_is_in_chinese_for_a_chinese_borrower(app, client, make_user):
    """The same refusal, localized."""
    login(client, make_user(Role.BORROWER, locale="zh_CN"))

    response = _add(client, phone="12345")

    assert response.status_code == 422
    assert "请输入带国家代码的手机号码" in page_text(response)
    assert _value(response.get_data(as_text=True), "phone") == "12345"


def test_the_borrowers_own_number_is_refused_next_to_the_phone_field(app, client, borrower):
    """The service's refusal appears like a form error, and nothing is saved."""
    response = _add(client, phone="+8613800138000")

    assert response.status_code == 422
    assert "This is your own number." in page_text(response)
    assert _value(response.get_data(as_text=True), "phone") == "+8613800138000"
    assert _contacts(app, borrower.id) == []


def test_a_fourth_contact_cannot_be_added(app, client, borrower):
    """With three contacts the form is replaced by a note; a forged post is refused."""
    for n in range(3):
        assert _add(client, phone=f"+861390013900{n}").status_code == 303

    page = client.get(URL)
    assert 'data-testid="contacts-full"' in page.get_data(as_text=True)
    response = _add(client, phone="+8613900139099")

    assert response.status_code == 422
    assert "You can name at most 3 emergency contacts." in page_text(response)
    assert len(_contacts(app, borrower.id)) == 3


def test_removing_a_contact_takes_it_off_the_list(app, client, borrower):
    """Removed (kept for the record, no longer listed) and audited."""
    contact_id = _contact_of(app, borrower.id)

    response = client.post(
        f"{URL}/{contact_id}/remove", data={"csrf_token": csrf_token(client, URL)}
    )

    assert response.status_code == 303
    assert _contacts(app, borrower.id) == [("Zhang San", "+8613900139000", "sibling", True)]
    text = page_text(client.get(URL))
    assert "The emergency contact is removed." in text
    assert "Zhang San" not in text


def test_a_borrower_cannot_remove_another_borrowers_contact(app, client, make_user, borrower):
    """404, and the other borrower's contact stays."""
    other = make_user(Role.BORROWER)
    contact_id = _contact_of(app, other.id)

    response = client.post(
        f"{URL}/{contact_id}/remove", data={"csrf_token": csrf_token(client, URL)}
    )

    assert response.status_code == 404
    assert _contacts(app, other.id) == [("Zhang San", "+8613900139000", "sibling", False)]


def test_posts_without_csrf_token_are_refused(app, client, borrower):
    """400 for adding and removing, and nothing changes."""
    contact_id = _contact_of(app, borrower.id)

    added = client.post(
        URL, data={"name": "Li Wei", "phone": "+8613900139001", "relationship": "friend"}
    )
    removed = client.post(f"{URL}/{contact_id}/remove")

    assert (added.status_code, removed.status_code) == (400, 400)
    assert _contacts(app, borrower.id) == [("Zhang San", "+8613900139000", "sibling", False)]


@pytest.mark.parametrize("role", [Role.AGENT, Role.COLLECTOR, Role.ADMIN])
def test_staff_get_403(app, client, make_user, role):
    """The page is the borrower's own: every staff role is refused."""
    login(client, make_user(role, locale="en"))

    assert client.get(URL).status_code == 403
    token = csrf_token(client, "/staff/")
    assert client.post(URL, data={"csrf_token": token}).status_code == 403
    assert client.post(f"{URL}/1/remove", data={"csrf_token": token}).status_code == 403


def test_the_views_declare_their_role(app):
    """The role marker tests/auth/test_roles.py looks for is on both views."""
    for endpoint in ("messaging_emergency_contacts.index", "messaging_emergency_contacts.remove"):
        assert app.view_functions[endpoint].allowed_roles == (Role.BORROWER,)


def test_a_chinese_borrower_types_a_mobile_number_without_86(app, client, make_user):
    """A zh_CN borrower's 11-digit mainland number with spaces is saved as +86..."""
    account = make_user(Role.BORROWER, locale="zh_CN")
    login(client, account)

    assert _add(client, phone="139 0013 9000").status_code == 303
    assert _contacts(app, account.id) == [("Li Wei", "+8613900139000", "friend", False)]
