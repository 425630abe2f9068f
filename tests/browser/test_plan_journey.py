"""The demo borrower enrolls in a 6-month plan: she states her income and expenses, agrees to
the plan terms, pays the 10% down payment in the sandbox, and sees the plan on her dashboard;
afterwards no collection message can go out about that loan."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.auth.models import Channel
from portal.extensions import db
from portal.loans.models import Loan
from portal.messaging.models import ContactKind, Message, MessageStatus
from portal.messaging.outbox import enqueue
from portal.plans.models import PlanStatus, RepaymentPlan
from portal.timeutil import utcnow

pytestmark = pytest.mark.browser

REFERENCE = "LN-DEMO-0001"
WAITING = (MessageStatus.QUEUED, MessageStatus.SENDING)


def _sign_in(page: Page, live_server: str) -> None:
    page.goto(f"{live_server}/login")
    page.locator("input[name=email]").fill("borrower@demo.test")
    page.locator("input[name=password]").fill("demo1234")
    page.locator("form button[type=submit]").first.click()
    expect(page.get_by_test_id("loan-list")).to_be_visible()


def _pay_with_the_test_card(page: Page) -> None:
    expect(page.get_by_test_id("sandbox-banner")).to_contain_text("沙盒")
    page.get_by_label("卡号").fill("4242 4242 4242 4242")
    page.get_by_label("有效期（MM/YY）").fill("12/34")
    page.get_by_label("安全码（CVC）").fill("123")
    page.get_by_test_id("sandbox-pay").click()


def _plan(app) -> RepaymentPlan:
    with app.app_context():
        loan_id = db.session.scalar(select(Loan.id).where(Loan.reference == REFERENCE))
        plan = db.session.scalars(
            select(RepaymentPlan).where(RepaymentPlan.loan_id == loan_id)
        ).one()
        db.session.expunge(plan)
        return plan


def _queue_a_collection_notice(app, plan: RepaymentPlan) -> tuple[MessageStatus, str | None]:
    """An overdue notice about the loan, queued now: the guard's in_plan rule stops it."""
    with app.app_context():
        message = enqueue(
            borrower_id=plan.borrower_id,
            purpose_code="overdue_stage_1",
            channel=Channel.SMS,
            variables={
                "loan_reference": REFERENCE,
                "days_past_due": "12",
                "amount_overdue": "¥100.00",
                "principal_overdue": "¥100.00",
                "interest_overdue": "¥0.00",
                "fees_overdue": "¥0.00",
                "late_charges_overdue": "",
                "due_dates": "2026-11-19",
                "pay_url": "https://settle.test/pay",
                "plans_url": "https://settle.test/plans",
            },
            now=utcnow(),
            loan_id=plan.loan_id,
        )
        db.session.commit()
        return message.status, message.blocked_rule


def test_the_demo_borrower_enrolls_in_a_six_month_plan_and_collection_stops(
    app, live_server, page: Page
):
    """Dashboard -> offers (income and expenses stated) -> consent to 6 months -> the 10% down
    payment in the sandbox -> the plan on the dashboard; no collection message waits for the
    loan, and a new one is blocked by the guard's in_plan rule."""
    _sign_in(page, live_server)
    item = page.get_by_test_id("loan-item").filter(has_text=REFERENCE)
    item.get_by_test_id("plans-button").click()

    expect(page.get_by_test_id("plan-offers")).to_be_visible()  # screen 1: the offers
    page.get_by_test_id("means-form").locator("input[name=income]").fill("8000")
    page.get_by_test_id("means-form").locator("input[name=expenses]").fill("5000")
    page.get_by_test_id("means-submit").click()
    expect(page.get_by_test_id("plans-capacity")).to_be_visible()
    expect(page.get_by_test_id("plan-terms")).to_contain_text("计划条款")
    six = page.locator('[data-testid="plan-offer"]').filter(
        has=page.locator('form[data-term="6-monthly"]')
    )
    expect(six.get_by_test_id("offer-installment")).to_have_count(6)
    down_payment = six.get_by_test_id("offer-down-payment").inner_text()
    six.get_by_test_id("enroll-submit").click()  # without the consent box: refused, kept
    expect(page.get_by_test_id("enroll-error")).to_contain_text("请勾选同意计划条款")
    expect(page.get_by_test_id("means-form").locator("input[name=income]")).to_have_value("8000")
    six = page.locator('[data-testid="plan-offer"]').filter(
        has=page.locator('form[data-term="6-monthly"]')
    )
    six.get_by_test_id("enroll-consent").check()
    six.get_by_test_id("enroll-submit").click()

    expect(page.get_by_test_id("down-payment-amount")).to_have_text(down_payment)  # screen 2
    expect(page.get_by_test_id("plan-installment")).to_have_count(6)
    plan = _plan(app)
    assert plan.status is PlanStatus.PENDING
    assert plan.down_payment_minor * 10 >= plan.balance_minor > (plan.down_payment_minor - 1) * 10
    page.get_by_test_id("pay-down-payment").click()

    expect(page.get_by_test_id("checkout-amount")).to_have_text(down_payment)  # screen 3
    _pay_with_the_test_card(page)
    expect(page.get_by_test_id("state-paid")).to_be_visible()
    assert _plan(app).status is PlanStatus.ACTIVE

    page.goto(f"{live_server}/")  # the dashboard shows the plan and its next payment
    item = page.get_by_test_id("loan-item").filter(has_text=REFERENCE)
    expect(item.get_by_test_id("dashboard-plan-progress")).to_have_text("已还0期，共6期")
    expect(item.get_by_test_id("dashboard-plan-next")).to_contain_text("下一期计划还款")
    item.get_by_test_id("dashboard-plan-link").click()
    expect(page.get_by_test_id("plan-status")).to_have_text("进行中")
    expect(page).to_have_url(re.compile(r"/loans/\d+/plan$"))

    plan = _plan(app)
    with app.app_context():
        waiting = db.session.scalars(
            select(Message).where(
                Message.loan_id == plan.loan_id,
                Message.kind == ContactKind.COLLECTION,
                Message.status.in_(WAITING),
            )
        ).all()
    assert waiting == []
    assert _queue_a_collection_notice(app, plan) == (MessageStatus.BLOCKED, "in_plan")
