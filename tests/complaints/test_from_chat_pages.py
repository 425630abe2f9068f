"""The chat a complaint was opened from, on the complaint's pages: all of it for staff, without
the agents' private notes for the borrower, system events in words."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.auth.models import Role
from portal.complaints.models import Complaint, ComplaintCategory
from portal.extensions import db
from tests.complaints.conftest import user
from tests.complaints.test_from_chat import _chat, _file
from tests.conftest import DEFAULT_PASSWORD, Account, csrf_token, login, page_text


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


def _click(client, conversation_id: int, category: str = "collection_conduct"):
    token = csrf_token(client, f"/staff/support/{conversation_id}")
    return client.post(
        f"/staff/complaints/from-chat/{conversation_id}",
        data={"csrf_token": token, "category": category},
    )


def test_the_agent_opens_the_complaint_in_one_click_and_a_second_click_is_told(world, app):
    with app.app_context():
        conversation_id = _chat(world)
        agent = _account(world.agent_id)
    client = app.test_client()
    login(client, agent)
    page = client.get(f"/staff/support/{conversation_id}").get_data(as_text=True)
    assert 'data-testid="support-complaint-form"' in page
    response = _click(client, conversation_id)
    assert response.status_code == 303
    assert "/staff/complaints/" in response.headers["Location"]
    with app.app_context():
        complaint = db.session.scalar(select(Complaint))
        assert complaint.conversation_id == conversation_id
        assert complaint.category is ComplaintCategory.COLLECTION_CONDUCT
    again = _click(client, conversation_id)
    assert again.headers["Location"].endswith(f"/staff/support/{conversation_id}")
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert complaint.reference in page
    assert 'data-testid="support-complaint-link"' in page
    assert 'data-testid="support-complaint-form"' not in page


def test_the_click_is_refused_to_others_and_without_a_valid_form(world, app, make_user):
    with app.app_context():
        conversation_id = _chat(world)
        borrower = _account(world.borrower_id)
    other = app.test_client()
    login(other, make_user(Role.AGENT))
    token = csrf_token(other, "/staff/")
    url = f"/staff/complaints/from-chat/{conversation_id}"
    assert other.post(url, data={"csrf_token": token, "category": "other"}).status_code == 404
    assert (
        other.post(
            "/staff/complaints/from-chat/999999", data={"csrf_token": token, "category": "other"}
        ).status_code
        == 404
    )
    assert other.post(url, data={"category": "other"}).status_code == 400  # no CSRF token
    bad = other.post(url, data={"csrf_token": token, "category": "<script>"})
    assert bad.status_code == 303
    client = app.test_client()
    login(client, borrower)
    token = csrf_token(client, "/complaints/new")
    assert client.post(url, data={"csrf_token": token, "category": "other"}).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Complaint)) == 0
