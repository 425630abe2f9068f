"""The chat a complaint was opened from, on the complaint's pages: all of it for staff, without
the agents' private notes for the borrower, system events in words."""

from __future__ import annotations

from portal.extensions import db
from tests.complaints.conftest import user
from tests.complaints.test_from_chat import _chat, _file
from tests.conftest import DEFAULT_PASSWORD, Account, login, page_text


def _account(user_id: int) -> Account:
    person = user(user_id)
    return Account(person.id, person.email, DEFAULT_PASSWORD, person.role)


def test_the_staff_page_shows_the_whole_chat_and_the_borrowers_page_hides_private_notes(world, app):
    with app.app_context():
        complaint = _file(world, _chat(world))
        db.session.commit()
        reference, complaint_id = complaint.reference, complaint.id
        admin, borrower = _account(world.admin_id), _account(world.borrower_id)

    staff = app.test_client()
    login(staff, admin)
    text = page_text(staff.get(f"/staff/complaints/{complaint_id}"))
    assert "Twice, at night." in text
    assert "Noted; checking the call log." in text
    assert "A complaint was opened from this conversation." in text  # not the raw event code

    client = app.test_client()
    login(client, borrower)
    text = page_text(client.get(f"/complaints/{reference}"))
    assert "Twice, at night." in text
    assert "Noted; checking the call log." not in text
