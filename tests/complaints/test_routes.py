"""The complaint pages: filing with evidence, the borrower's view (public thread only), the
console's steps, and authorization of every complaint and attachment route."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from portal.auth.models import Role
from portal.complaints.models import Complaint, ComplaintCategory, ComplaintStatus
from portal.extensions import db
from portal.messaging.models import ContactHold
from tests.complaints.conftest import PDF, PNG, file
from tests.conftest import csrf_token, login, page_text


def _post_new(client, **data):
    token = csrf_token(client, "/complaints/new")
    fields = {
        "csrf_token": token,
        "category": "collection_conduct",
        "loan_id": "",
        "description": "The collector called me five times at night.",
        **data,
    }
    return client.post("/complaints/new", data=fields, content_type="multipart/form-data")


@pytest.fixture
def signed_in_borrower(app, client, make_user, make_loan):
    account = make_user(Role.BORROWER, locale="en")
    login(client, account)
    client.account = account
    client.loan_id = make_loan(account.id)
    return client


def test_borrower_files_a_complaint_with_a_screenshot(app, signed_in_borrower):
    """The form gives a reference at once; the page shows it, the deadline and the file."""
    client = signed_in_borrower
    response = _post_new(
        client,
        loan_id=str(client.loan_id),
        attachments=(io.BytesIO(PNG), "screenshot.png", "image/png"),
    )
    assert response.status_code == 303
    with app.app_context():
        complaint = db.session.scalar(select(Complaint))
        assert complaint.loan_id == client.loan_id
        assert complaint.hold_id is not None
        reference = complaint.reference
    assert response.headers["Location"].endswith(f"/complaints/{reference}")
    page = client.get(f"/complaints/{reference}")
    text = page_text(page)
    assert reference in text
    assert "We will answer by the end of" in text
    assert "screenshot.png" in text
    assert reference in page_text(client.get("/complaints"))


def test_a_mismatched_file_is_refused_with_a_clear_error_and_nothing_kept(app, signed_in_borrower):
    """A PNG posing as a PDF: 422 on the form, no complaint, no hold."""
    response = _post_new(
        signed_in_borrower, attachments=(io.BytesIO(PNG), "statement.pdf", "application/pdf")
    )
    assert response.status_code == 422
    assert "not what its name says" in page_text(response)
    with app.app_context():
        assert db.session.scalar(select(Complaint.id)) is None
        assert db.session.scalar(select(ContactHold.id)) is None


def test_empty_description_is_refused(app, signed_in_borrower):
    """An empty description: 422, nothing filed."""
    response = _post_new(signed_in_borrower, description="   ")
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(Complaint.id)) is None


def test_another_borrowers_loan_is_not_a_choice(app, signed_in_borrower, make_user, make_loan):
    """A loan id that is not one of the borrower's own is refused by the form."""
    other = make_loan(make_user(Role.BORROWER).id)
    assert _post_new(signed_in_borrower, loan_id=str(other)).status_code == 422


def test_borrower_sees_only_the_public_thread(app, world, client):
    """Internal notes never reach the borrower's page; public replies do."""
    from portal.complaints import handling
    from tests.complaints.conftest import user

    with app.app_context():
        complaint = file(world, ComplaintCategory.OTHER)
        agent = user(world.agent_id)
        handling.write(
            agent,
            complaint.id,
            "SECRET-NOTE",
            internal=True,
            now=complaint.received_at,
            ip_address=None,
        )
        handling.write(
            agent,
            complaint.id,
            "PUBLIC-REPLY",
            internal=False,
            now=complaint.received_at,
            ip_address=None,
        )
        db.session.commit()
        reference = complaint.reference
        borrower = user(world.borrower_id)
        email = borrower.email
    from tests.conftest import DEFAULT_PASSWORD, Account

    login(client, Account(world.borrower_id, email, DEFAULT_PASSWORD, Role.BORROWER))
    text = page_text(client.get(f"/complaints/{reference}"))
    assert "PUBLIC-REPLY" in text
    assert "SECRET-NOTE" not in text


def _as(client, app, user_id):
    from portal.auth.models import User
    from tests.conftest import DEFAULT_PASSWORD, Account

    with app.app_context():
        u = db.session.get(User, user_id)
        account = Account(u.id, u.email, DEFAULT_PASSWORD, u.role)
    fresh = app.test_client()  # a browser of its own per person
    login(fresh, account)
    return fresh


def test_a_borrower_never_reaches_another_borrowers_complaint_or_file(
    app, world, client, make_user
):
    """Another borrower gets 404 on the complaint, its steps and its file."""
    from portal.hardship.storage import Upload

    stranger = make_user(Role.BORROWER)
    with app.app_context():
        complaint = file(world, uploads=[Upload("a.pdf", "application/pdf", PDF)])
        db.session.commit()
        reference, attachment_id = complaint.reference, complaint.attachments[0].id
    login(client, stranger)
    assert client.get(f"/complaints/{reference}").status_code == 404
    assert client.get(f"/complaints/attachments/{attachment_id}").status_code == 404
    token = csrf_token(client, "/complaints/new")
    for step in ("reply", "withdraw", "reopen", "rate"):
        response = client.post(
            f"/complaints/{reference}/{step}",
            data={"csrf_token": token, "body": "x", "rating": "5"},
        )
        assert response.status_code == 404, step
    assert client.get("/complaints/..%2F..%2Fetc%2Fpasswd").status_code == 404
    with app.app_context():
        assert db.session.get(Complaint, complaint.id).status is ComplaintStatus.SUBMITTED


def test_owner_and_handlers_download_the_file_collectors_do_not(app, world, client):
    """The borrower and agents/admins get the file (as a download); collectors get 403."""
    from portal.hardship.storage import Upload

    with app.app_context():
        complaint = file(world, uploads=[Upload("a.pdf", "application/pdf", PDF)])
        db.session.commit()
        attachment_id = complaint.attachments[0].id
    client = _as(client, app, world.borrower_id)
    response = client.get(f"/complaints/attachments/{attachment_id}")
    assert response.status_code == 200
    assert response.data == PDF
    assert "attachment" in response.headers["Content-Disposition"]
    client = _as(client, app, world.agent_id)
    assert client.get(f"/staff/complaints/attachments/{attachment_id}").data == PDF
    client = _as(client, app, world.collector_id)
    assert client.get(f"/staff/complaints/attachments/{attachment_id}").status_code == 403
    assert client.get("/staff/complaints/").status_code == 403


def test_admin_acknowledges_investigates_and_resolves_with_a_fee_waiver(app, world, client):
    """The console's steps end in a resolution the borrower sees, with the amount waived;
    the hold is released."""
    with app.app_context():
        complaint = file(world, ComplaintCategory.AMOUNT_DISPUTE)
        db.session.commit()
        complaint_id, reference, hold_id = complaint.id, complaint.reference, complaint.hold_id
    client = _as(client, app, world.admin_id)
    page = f"/staff/complaints/{complaint_id}"
    assert client.get("/staff/complaints/").status_code == 200
    assert reference in page_text(client.get("/staff/complaints/?category=amount_dispute"))
    for step in ("acknowledge", "investigate"):
        response = client.post(f"{page}/{step}", data={"csrf_token": csrf_token(client, page)})
        assert response.status_code == 303
    response = client.post(
        f"{page}/resolve",
        data={
            "csrf_token": csrf_token(client, page),
            "resolution": "We waived the interest due.",
            "remedy": "waiver",
            "components": ["interest"],
            "root_cause": "process_error",
        },
    )
    assert response.status_code == 303
    with app.app_context():
        resolved = db.session.get(Complaint, complaint_id)
        assert resolved.status is ComplaintStatus.RESOLVED
        assert resolved.remedy_minor > 0
        assert db.session.get(ContactHold, hold_id).closed_at is not None
    client = _as(client, app, world.borrower_id)
    text = page_text(client.get(f"/complaints/{reference}"))
    assert "We waived the interest due." in text
    assert "We have answered" in text


def test_assign_offers_no_recused_collector_and_refuses_one(app, world, client):
    """The recused are not offered, and a forged post naming one is refused."""
    with app.app_context():
        complaint = file(world)
        db.session.commit()
        complaint_id = complaint.id
    client = _as(client, app, world.admin_id)
    page = f"/staff/complaints/{complaint_id}"
    html = client.get(page).get_data(as_text=True)
    assert 'data-testid="assign-form"' in html
    response = client.post(
        f"{page}/assign",
        data={"csrf_token": csrf_token(client, page), "user_id": str(world.collector_id)},
        follow_redirects=True,
    )
    assert "Choose an active agent or administrator." in page_text(response)
    with app.app_context():
        assert db.session.get(Complaint, complaint_id).handler_id is None


def test_overdue_queue(app, world, client):
    """A complaint past its deadline is in the overdue queue, marked overdue."""
    from datetime import timedelta

    from tests.collections.conftest import NOW

    with app.app_context():
        old = file(world, ComplaintCategory.OTHER, received_at=NOW - timedelta(days=60))
        new = file(world, ComplaintCategory.OTHER)
        db.session.commit()
        old_ref, new_ref = old.reference, new.reference
    client = _as(client, app, world.agent_id)
    text = page_text(client.get("/staff/complaints/?sla=overdue"))
    assert old_ref in text
    assert new_ref not in text
    assert "Overdue" in text


def test_admin_keeps_the_business_calendar(app, world, client):
    """An admin lists a holiday; agents cannot reach the calendar."""
    client = _as(client, app, world.admin_id)
    page = "/staff/complaints/calendar/CN"
    response = client.post(
        page,
        data={
            "csrf_token": csrf_token(client, page),
            "day": "2026-12-31",
            "kind": "holiday",
            "name": "Year end",
        },
    )
    assert response.status_code == 303
    assert "Year end" in page_text(client.get(page))
    client = _as(client, app, world.agent_id)
    assert client.get(page).status_code == 403


def test_case_timeline_shows_the_hold_and_its_release(app, world, client):
    """The conduct complaint's hold and its release appear on the collection case's timeline."""
    from datetime import timedelta

    from portal.complaints import handling
    from portal.complaints.models import Remedy, RootCause
    from portal.complaints.remedies import Resolution, resolve
    from tests.collections.conftest import NOW
    from tests.complaints.conftest import user

    with app.app_context():
        complaint = file(world)
        admin = user(world.admin_id)
        handling.acknowledge(admin, complaint.id, now=NOW, ip_address=None)
        resolve(
            admin,
            complaint.id,
            Resolution("Sorry.", Remedy.APOLOGY, RootCause.STAFF_CONDUCT),
            now=NOW + timedelta(hours=1),
            ip_address=None,
        )
        db.session.commit()
        reference = complaint.reference
    client = _as(client, app, world.admin_id)
    html = client.get(f"/staff/collections/cases/{world.case_id}").get_data(as_text=True)
    kinds = re.findall(r'data-testid="timeline-entry" data-kind="(\w+)"', html)
    assert kinds.index("hold_released") < kinds.index("hold")  # newest first
    text = page_text_of(html)
    assert "Contact paused : Complaint" in text
    assert "Contact resumed : Complaint" in text
    assert reference in text


def page_text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def test_complaint_pages_render_in_chinese(app, make_user, client):
    """A Chinese-speaking borrower's complaint pages are in Chinese."""
    account = make_user(Role.BORROWER, locale="zh_CN")
    login(client, account)
    assert "提交投诉" in page_text(client.get("/complaints"))
    assert "投诉内容是关于什么" in page_text(client.get("/complaints/new"))
