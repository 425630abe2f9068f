"""Staff and plans: a collector proposes an offer from the case page (the borrower is told and
sees it highlighted), the case and the queue show "In plan", the timeline never a raw code, and
an admin approves or declines plans above the policy's limits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.auth.models import Role
from portal.extensions import db
from portal.messaging.default_templates import install_default_templates
from portal.messaging.models import Message
from portal.plans.models import PlanPolicyVersion, PlanStatus
from portal.plans.policy import DEFAULT_SETTINGS
from portal.timeutil import local_today, utcnow
from tests.collections.conftest import make_case
from tests.conftest import csrf_token, login, page_text
from tests.plans.conftest import BALANCE, enroll, pay_down_payment, pay_in_sandbox, plans_of


@pytest.fixture
def case(app, make_user, make_loan):
    borrower = make_user(Role.BORROWER, locale="en")
    collector = make_user(Role.COLLECTOR, locale="en")
    today = local_today("Asia/Shanghai", utcnow())
    loan_id = make_loan(borrower.id, disbursed_on=today - timedelta(days=45))
    case_id = make_case(app, borrower_id=borrower.id, loan_id=loan_id, assigned_to=collector.id)
    return {
        "borrower": borrower,
        "collector": collector,
        "loan_id": loan_id,
        "case_id": case_id,
        "url": f"/staff/collections/cases/{case_id}",
    }


def _propose(client, case, term="6-monthly", balance=BALANCE):
    return client.post(
        f"{case['url']}/plans/propose",
        data={
            "csrf_token": csrf_token(client, case["url"]),
            "term": term,
            "quoted_balance": str(balance),
        },
    )


def test_a_collector_proposes_a_plan_and_the_borrower_sees_it(app, client, case):
    with app.app_context():
        install_default_templates(now=utcnow())
        db.session.commit()
    login(client, case["collector"])
    assert client.get(case["url"]).get_data(as_text=True).count('data-testid="propose-form"') == 4
    response = _propose(client, case)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{case['url']}#plans")
    [plan] = plans_of(app, case["loan_id"])
    assert (plan.status, plan.proposed_by) == (PlanStatus.PROPOSED, case["collector"].id)
    assert "Proposed by our team" in page_text(client.get(case["url"]))
    with app.app_context():
        told = db.session.scalars(
            select(Message.purpose).where(Message.borrower_id == case["borrower"].id)
        ).all()
        assert "plan_proposed" in told
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "plan.proposed"))
    borrower = app.test_client()
    login(borrower, case["borrower"])
    html = borrower.get(f"/loans/{case['loan_id']}/plans").get_data(as_text=True)
    assert html.count('data-testid="offer-proposed"') == 1
    assert "Our team has proposed a plan for you" in html
    assert enroll(borrower, case["loan_id"]).status_code == 303  # the borrower agrees
    [*_, agreed] = sorted(plans_of(app, case["loan_id"]), key=lambda p: p.id)
    assert (agreed.status, agreed.proposed_by) == (PlanStatus.PENDING, case["collector"].id)


def test_a_stale_proposal_is_refused_with_its_reason(app, client, case):
    login(client, case["collector"])
    response = _propose(client, case, balance=BALANCE - 1)
    assert response.status_code == 303
    text = page_text(client.get(case["url"]))
    assert "Your balance changed since these plans were shown" in text
    assert plans_of(app, case["loan_id"]) == []


def test_another_collectors_case_cannot_be_proposed_on(app, client, case, make_user):
    login(client, make_user(Role.COLLECTOR, locale="en"))
    token = csrf_token(client, "/staff/collections/queue")
    data = {"csrf_token": token, "term": "6-monthly", "quoted_balance": str(BALANCE)}
    assert client.post(f"{case['url']}/plans/propose", data=data).status_code == 403
    assert (
        client.post("/staff/collections/cases/999999/plans/propose", data=data).status_code == 404
    )
    assert plans_of(app, case["loan_id"]) == []


def test_an_active_plan_shows_in_plan_on_the_case_the_queue_and_the_timeline(app, client, case):
    borrower = app.test_client()
    login(borrower, case["borrower"])
    enroll(borrower, case["loan_id"])
    pay_in_sandbox(borrower, pay_down_payment(borrower, case["loan_id"]))
    login(client, case["collector"])
    response = client.get(case["url"])
    html = response.get_data(as_text=True)
    assert 'data-testid="case-in-plan"' in html
    text = page_text(response)
    assert "In progress" in text
    assert "0 of 6 plan payments made" in text
    assert "In a repayment plan" in text  # the timeline, in words
    assert "plan started" not in text.replace("repayment plan started", "")
    assert 'data-testid="propose-form"' not in html  # the borrower's plan is live
    assert "This loan already has an active plan." in text
    queue = client.get("/staff/collections/queue").get_data(as_text=True)
    assert 'data-testid="queue-in-plan"' in queue


def _approval_policy(app):
    """Plans over CN¥1,000.00 need an admin (the test loan owes CN¥3,240.00)."""
    with app.app_context():
        settings = {**DEFAULT_SETTINGS, "approval_balance_minor": 100_000}
        db.session.add(PlanPolicyVersion(version=1, settings=settings, created_at=utcnow()))
        db.session.commit()


def test_an_admin_approves_a_plan_above_the_limits(app, client, case, make_user):
    _approval_policy(app)
    borrower = app.test_client()
    login(borrower, case["borrower"])
    assert enroll(borrower, case["loan_id"]).status_code == 303
    [plan] = plans_of(app, case["loan_id"])
    assert plan.status is PlanStatus.AWAITING_APPROVAL
    assert "one of our administrators reviews it" in page_text(
        borrower.get(f"/loans/{case['loan_id']}/plan")
    )
    login(client, make_user(Role.ADMIN, locale="en"))
    page = client.get("/staff/plans/approvals")
    assert page.get_data(as_text=True).count('data-testid="approval-row"') == 1
    token = csrf_token(client, "/staff/plans/approvals")
    approved = client.post(f"/staff/plans/{plan.id}/approve", data={"csrf_token": token})
    assert approved.status_code == 303
    assert "Plan approved: Waiting for the down payment." in page_text(
        client.get("/staff/plans/approvals")
    )
    [plan] = plans_of(app, case["loan_id"])
    assert plan.status is PlanStatus.PENDING
    again = client.post(f"/staff/plans/{plan.id}/decline", data={"csrf_token": token})
    assert again.status_code == 303
    assert plans_of(app, case["loan_id"])[0].status is PlanStatus.PENDING  # decided once
    assert "No plan is waiting for approval." in page_text(client.get("/staff/plans/approvals"))


def test_an_admin_declines_and_the_borrower_is_told_why(app, client, case, make_user):
    _approval_policy(app)
    borrower = app.test_client()
    login(borrower, case["borrower"])
    enroll(borrower, case["loan_id"])
    [plan] = plans_of(app, case["loan_id"])
    login(client, make_user(Role.ADMIN, locale="en"))
    token = csrf_token(client, "/staff/plans/approvals")
    assert (
        client.post(f"/staff/plans/{plan.id}/decline", data={"csrf_token": token}).status_code
        == 303
    )
    [plan] = plans_of(app, case["loan_id"])
    assert (plan.status, plan.end_reason) == (PlanStatus.CANCELED, "declined")
    with app.app_context():
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "plan.declined"))
    assert "Our team could not approve it." in page_text(
        borrower.get(f"/loans/{case['loan_id']}/plan")
    )


def test_collectors_do_not_decide_plans(client, case):
    login(client, case["collector"])
    assert client.get("/staff/plans/approvals").status_code == 403
