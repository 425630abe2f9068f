"""Legal escalation: the request with its evidence checklist, the admin's decision, the letter."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date
from sqlalchemy import func, select, update

from portal.audit.models import AuditChainHead
from portal.auth.models import Channel, Role
from portal.collections.models import (
    CaseTransition,
    CollectionCase,
    LegalRequest,
    LegalStatus,
)
from portal.extensions import db
from portal.loans.models import Loan
from portal.messaging.models import Message
from tests.collections.legal.conftest import (
    REQUESTS,
    STAGE_2_LOAN,
    approve,
    approved_case,
    events,
    new_admin,
    only_request,
    open_case,
    post,
    request_approval,
    signed_in,
)
from tests.conftest import csrf_token, login, page_text

# --- The request ---------------------------------------------------------------------------


def test_request_page_shows_every_checklist_item_present(app, client, make_user, make_loan):
    """The collector sees the four items, each marked present, and the agreement explanation."""
    case = open_case(app, make_user, make_loan)
    login(client, case.collector)
    response = client.get(case.url())
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for key in ("loan_agreement", "statement_of_account", "contact_history", "audit_chain"):
        assert f'data-testid="item-{key}" data-present="yes"' in html
    text = page_text(response)
    assert "the loan record and the borrower account are the agreement and consent record" in text
    assert "The audit log is intact" in text
    assert 'data-testid="request-form"' in html


def test_legal_pages_name_the_loan_and_borrower_not_the_case_id(app, client, make_user, make_loan):
    """The request page's title and heading, and the admin's list, show the loan reference and
    the borrower's name (as the page shows them), never "case <id>"."""
    case = open_case(app, make_user, make_loan)
    with app.app_context():
        reference = db.session.get_one(Loan, case.loan_id).reference
    login(client, case.collector)
    html = client.get(case.url()).get_data(as_text=True)
    assert f"<title>Legal escalation — {reference}" in html
    assert f"Legal escalation — {reference}, Wang Fang</h1>" in html
    assert f"case {case.case_id}" not in html.lower()
    assert request_approval(client, case).status_code == 303
    admin_client, _ = new_admin(app, make_user)
    text = page_text(admin_client.get(REQUESTS))
    assert f"{reference} · Wang Fang" in text
    assert f"Case {case.case_id}" not in text


def test_request_records_checklist_status_transition_and_audit(app, client, make_user, make_loan):
    """A request stores the checklist, marks the case requested, escalates and is audited."""
    case = open_case(app, make_user, make_loan)
    login(client, case.collector)
    response = request_approval(client, case, "  Promised twice, paid nothing.  ")
    assert response.status_code == 303
    assert "Legal approval requested" in page_text(client.get(response.headers["Location"]))
    with app.app_context():
        request = only_request(case.case_id)
        assert request.reason == "Promised twice, paid nothing."
        assert request.requested_by == case.collector.id
        assert request.decision is None
        assert {k: v["present"] for k, v in request.checklist["items"].items()} == {
            "loan_agreement": True,
            "statement_of_account": True,
            "contact_history": True,
            "audit_chain": True,
        }
        assert request.checklist["items"]["loan_agreement"]["principal_minor"] == 300_000
        assert db.session.get(CollectionCase, case.case_id).legal_status is LegalStatus.REQUESTED
        escalated = db.session.scalars(
            select(CaseTransition).where(
                CaseTransition.case_id == case.case_id, CaseTransition.kind == "escalated"
            )
        ).one()
        assert (escalated.from_stage, escalated.actor_id) == (3, case.collector.id)
        [event] = events("legal.requested")
        assert event.actor_id == case.collector.id
        assert event.object_id == str(request.id)
        assert event.details["case_id"] == case.case_id


def test_request_without_a_reason_is_refused(app, client, make_user, make_loan):
    """A blank reason is shown next to the field; nothing is saved."""
    case = open_case(app, make_user, make_loan)
    login(client, case.collector)
    response = request_approval(client, case, "   ")
    assert response.status_code == 422
    assert "Please give the reason for the request." in page_text(response)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LegalRequest)) == 0


def test_request_without_any_contact_attempt_is_refused(app, client, make_user, make_loan):
    """No notice or call went out in stage 2/3: refused with the missing item, nothing done."""
    case = open_case(app, make_user, make_loan, contacted=False)
    login(client, case.collector)
    page = client.get(case.url())
    assert 'data-testid="item-contact_history" data-present="no"' in page.get_data(as_text=True)
    response = request_approval(client, case)
    assert response.status_code == 422
    assert "The evidence is not complete. Missing: Notices and contact attempts." in page_text(
        response
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LegalRequest)) == 0
        assert db.session.get(CollectionCase, case.case_id).legal_status is LegalStatus.NONE
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(CaseTransition)
                .where(CaseTransition.kind == "escalated")
            )
            == 0
        )
        assert events("legal.requested") == []


def test_request_is_refused_outside_stage_3(app, client, make_user, make_loan):
    """A stage-2 case cannot be escalated, and the page says why before anyone tries."""
    case = open_case(app, make_user, make_loan, disbursed=STAGE_2_LOAN)
    login(client, case.collector)
    assert "this case is in stage 2" in page_text(client.get(case.url()))
    response = request_approval(client, case)
    assert response.status_code == 422
    assert "only for cases in stage 3; this case is in stage 2" in page_text(response)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LegalRequest)) == 0


def test_second_request_while_one_is_pending_is_refused(app, client, make_user, make_loan):
    """Only one request per case waits for a decision."""
    case = open_case(app, make_user, make_loan)
    login(client, case.collector)
    assert request_approval(client, case).status_code == 303
    response = request_approval(client, case, "Again.")
    assert response.status_code == 409
    assert "already waiting for a decision" in page_text(response)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LegalRequest)) == 1
        assert len(events("legal.requested")) == 1


def test_other_collectors_and_other_roles_cannot_reach_a_case(app, client, make_user, make_loan):
    """Another collector gets 403 on the case, an unknown case is 404, agents get 403."""
    case = open_case(app, make_user, make_loan)
    login(client, make_user(Role.COLLECTOR, locale="en"))
    assert client.get(case.url()).status_code == 403
    token = csrf_token(client, "/staff/reports/overdue")
    assert client.post(case.url("bundle.zip"), data={"csrf_token": token}).status_code == 403
    assert client.get("/staff/collections/cases/999999/legal/request").status_code == 404
    agent = signed_in(app, make_user(Role.AGENT, locale="en"))
    assert agent.get(case.url()).status_code == 403


# --- The admin's decision --------------------------------------------------------------------


def test_admin_approves_and_the_case_moves_to_stage_4(app, client, make_user, make_loan):
    """Approval: legal status approved, stage 3 -> 4 with reason "legal approval", audited."""
    case = open_case(app, make_user, make_loan)
    login(client, case.collector)
    request_approval(client, case)
    admin_client, admin = new_admin(app, make_user)
    listing = page_text(admin_client.get(REQUESTS))
    assert "Wang Fang" in listing
    assert "No payment after 4 months." in listing
    with app.app_context():
        request_id = only_request(case.case_id).id
    response = approve(admin_client, request_id)
    assert response.status_code == 303
    assert "No request is waiting for a decision." in page_text(admin_client.get(REQUESTS))
    with app.app_context():
        request = only_request(case.case_id)
        assert (request.decision, request.decided_by) == ("approved", admin.id)
        db_case = db.session.get(CollectionCase, case.case_id)
        assert (db_case.stage, db_case.legal_status) == (4, LegalStatus.APPROVED)
        move = db.session.scalars(
            select(CaseTransition).where(
                CaseTransition.case_id == case.case_id, CaseTransition.kind == "stage"
            )
        ).one()
        assert (move.from_stage, move.to_stage, move.reason) == (3, 4, "legal approval")
        [event] = events("legal.approved")
        assert event.actor_id == admin.id
        assert event.details["checklist"]["items"]["audit_chain"]["intact"] is True


def test_admin_rejects_with_a_note_and_a_note_is_required(app, client, make_user, make_loan):
    """Rejecting without a note is refused; with one the request is rejected and audited."""
    case = open_case(app, make_user, make_loan)
    login(client, case.collector)
    request_approval(client, case)
    admin_client, _admin = new_admin(app, make_user)
    with app.app_context():
        request_id = only_request(case.case_id).id
    refused = approve(admin_client, request_id, "reject", "  ")
    assert refused.status_code == 422
    assert "Please write a note explaining the rejection." in page_text(refused)
    with app.app_context():
        assert only_request(case.case_id).decision is None
    assert (
        approve(admin_client, request_id, "reject", "Try a payment plan first.").status_code == 303
    )
    with app.app_context():
        request = only_request(case.case_id)
        assert (request.decision, request.decision_note) == (
            "rejected",
            "Try a payment plan first.",
        )
        db_case = db.session.get(CollectionCase, case.case_id)
        assert (db_case.stage, db_case.legal_status) == (3, LegalStatus.REJECTED)
        [event] = events("legal.rejected")
        assert event.details["note"] == "Try a payment plan first."


def test_a_rejected_case_can_be_requested_again(app, client, make_user, make_loan):
    """After a rejection the collector may ask again (a new request, the old one kept)."""
    case = open_case(app, make_user, make_loan)
    login(client, case.collector)
    request_approval(client, case)
    admin_client, _admin = new_admin(app, make_user)
    with app.app_context():
        first_id = only_request(case.case_id).id
    assert approve(admin_client, first_id, "reject", "Not yet.").status_code == 303
    assert request_approval(client, case, "Plan refused.").status_code == 303
    with app.app_context():
        decisions = db.session.scalars(
            select(LegalRequest.decision).where(LegalRequest.case_id == case.case_id)
        ).all()
        assert len(decisions) == 2
        assert set(decisions) == {"rejected", None}


def test_a_collector_cannot_decide(app, client, make_user, make_loan):
    """Collectors get 403 on the request list and on the decision; nothing changes."""
    case = open_case(app, make_user, make_loan)
    login(client, case.collector)
    request_approval(client, case)
    with app.app_context():
        request_id = only_request(case.case_id).id
    assert client.get(REQUESTS).status_code == 403
    response = client.post(
        REQUESTS,
        data={
            "csrf_token": csrf_token(client, case.url()),
            "request_id": str(request_id),
            "decision": "approve",
        },
    )
    assert response.status_code == 403
    with app.app_context():
        assert only_request(case.case_id).decision is None


def test_a_decided_request_cannot_be_decided_again(app, client, make_user, make_loan):
    """A second approval of the same request is refused and moves nothing twice."""
    case, admin_client, _admin = approved_case(app, make_user, make_loan)
    with app.app_context():
        request_id = only_request(case.case_id).id
    response = approve(admin_client, request_id)
    assert response.status_code == 409
    assert "already been decided" in page_text(response)
    with app.app_context():
        assert len(events("legal.approved")) == 1


def test_approval_rechecks_the_evidence(app, client, make_user, make_loan):
    """If the audit log no longer verifies, approval is refused and the request stays pending."""
    case = open_case(app, make_user, make_loan)
    login(client, case.collector)
    request_approval(client, case)
    admin_client, _admin = new_admin(app, make_user)
    with app.app_context():
        request_id = only_request(case.case_id).id
        # The head claims more events than the log holds: a truncated tail.
        db.session.execute(update(AuditChainHead).values(sequence=AuditChainHead.sequence + 3))
        db.session.commit()
    response = approve(admin_client, request_id)
    assert response.status_code == 422
    assert "Missing: Audit log verification" in page_text(response)
    with app.app_context():
        assert only_request(case.case_id).decision is None
        assert db.session.get(CollectionCase, case.case_id).stage == 3


# --- The lawyer letter ------------------------------------------------------------------------


def _letter_messages(loan_id: int) -> list[Message]:
    return list(
        db.session.scalars(
            select(Message)
            .where(Message.loan_id == loan_id, Message.purpose == "lawyer_letter")
            .order_by(Message.id)
        )
    )


def test_no_letter_before_approval(app, client, make_user, make_loan):
    """A case only requested (not approved) gets no letter."""
    case = open_case(app, make_user, make_loan)
    login(client, case.collector)
    request_approval(client, case)
    response = post(client, case.url("letter"), {}, form_page=case.url())
    assert response.status_code == 409
    assert "has not been approved for the legal stage" in page_text(response)
    assert client.get(case.url("letter.html")).status_code == 404
    with app.app_context():
        assert _letter_messages(case.loan_id) == []


def test_letter_is_written_in_the_borrowers_language_and_queued(app, client, make_user, make_loan):
    """A Chinese borrower gets a Chinese letter with a 14-day deadline, queued twice, once."""
    case, client, admin = approved_case(app, make_user, make_loan, locale="zh_CN", name="王芳")
    response = post(client, case.url("letter"), {}, form_page=case.url())
    assert response.status_code == 303
    with app.app_context():
        messages = _letter_messages(case.loan_id)
        assert [m.channel for m in messages] == [Channel.PORTAL, Channel.EMAIL]
        assert {m.locale for m in messages} == {"zh_CN"}
        written = messages[0].created_at.astimezone(ZoneInfo("Asia/Shanghai")).date()
        deadline = format_date(written + timedelta(days=14), "long", locale="zh_CN")
        assert deadline in messages[0].body_text
        [event] = events("legal.letter_produced")
        assert event.actor_id == admin.id
        assert [m["channel"] for m in event.details["messages"]] == ["portal", "email"]
    letter = client.get(case.url("letter.html"))
    assert letter.status_code == 200
    text = page_text(letter)
    assert "律师函" in text
    assert "王芳" in text
    assert deadline in text
    assert "Settle" in text
    assert "138****5678" in text  # masked as on the case page (portal.pii)
    assert 'lang="zh-CN"' in letter.get_data(as_text=True)
    again = post(client, case.url("letter"), {}, form_page=case.url())
    assert again.status_code == 409
    with app.app_context():
        assert len(_letter_messages(case.loan_id)) == 2


def test_english_letter_and_its_pdf(app, client, make_user, make_loan):
    """An English borrower's letter in English; the PDF is a PDF embedding the text font."""
    case, client, _admin = approved_case(app, make_user, make_loan)
    assert post(client, case.url("letter"), {}, form_page=case.url()).status_code == 303
    legal_page = page_text(client.get(case.url()))
    assert "Portal notice: Queued" in legal_page  # the copies in words, not channel codes
    assert "portal: queued" not in legal_page
    text = page_text(client.get(case.url("letter.html")))
    assert "Letter about loan" in text
    assert "Our reference" in text
    assert "Dear Wang Fang," in text
    pdf = client.get(case.url("letter.pdf"))
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    assert len(pdf.data) > 5_000


def test_the_letter_escapes_what_it_shows(app, client, make_user, make_loan):
    """A borrower name with markup is shown as text in the letter, never as HTML."""
    case, client, _admin = approved_case(app, make_user, make_loan, name="<b>Eve</b>")
    assert post(client, case.url("letter"), {}, form_page=case.url()).status_code == 303
    html = client.get(case.url("letter.html")).get_data(as_text=True)
    assert "&lt;b&gt;Eve&lt;/b&gt;" in html
    assert "<b>Eve</b>" not in html


@pytest.mark.parametrize("role", [Role.BORROWER, Role.AGENT])
def test_borrowers_and_agents_cannot_request(app, client, make_user, make_loan, role):
    """Only collectors and admins may ask for legal approval."""
    case = open_case(app, make_user, make_loan)
    login(client, make_user(role, locale="en"))
    home = "/" if role is Role.BORROWER else "/staff/"
    response = client.post(case.url(), data={"reason": "x", "csrf_token": csrf_token(client, home)})
    assert response.status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LegalRequest)) == 0
