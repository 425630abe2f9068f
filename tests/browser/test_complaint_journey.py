"""Complaints, end to end: the demo borrower complains of harassment with a screenshot, the demo
admin acknowledges, investigates and resolves by waiving the disputed fee; the borrower sees the
answer and a lower balance; the case shows the collection hold and its release."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select

from portal.auth.models import User
from portal.collections.models import CollectionCase
from portal.complaints.models import Complaint
from portal.extensions import db
from portal.loans.models import Installment, Loan
from portal.support.models import ConversationMessage, Sender
from tests.complaints.conftest import PNG

pytestmark = pytest.mark.browser


def _login(page: Page, url: str, email: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill("demo1234")
    page.get_by_role("button", name="登录").click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def _fees_and_interest_due(loan_id: int, today) -> int:
    owed = (
        Installment.fee_due - Installment.fee_paid + Installment.interest_due
    ) - Installment.interest_paid
    return db.session.scalar(
        select(func.coalesce(func.sum(owed), 0)).where(
            Installment.loan_id == loan_id, Installment.due_date <= today
        )
    )


@pytest.fixture
def demo_case(app, collections_ran):
    """(loan id, case id) of the demo borrower's overdue loan, with fees and interest due."""
    with app.app_context():
        loan_id, case_id = db.session.execute(
            select(Loan.id, CollectionCase.id)
            .join(CollectionCase, CollectionCase.loan_id == Loan.id)
            .join(User, User.id == Loan.borrower_id)
            .where(User.email == "borrower@demo.test", Loan.reference == "LN-DEMO-0001")
        ).one()
        # The demo loan's products charge no fee: give its oldest overdue installment a late
        # fee of 20.00, the thing the borrower disputes (the run's accrual begins only today).
        installment = db.session.scalars(
            select(Installment)
            .where(Installment.loan_id == loan_id, Installment.due_date < collections_ran["today"])
            .order_by(Installment.due_date)
        ).first()
        installment.fee_due += 2000
        db.session.commit()
        assert _fees_and_interest_due(loan_id, collections_ran["today"]) > 0
    return loan_id, case_id


def test_harassment_complaint_resolved_with_a_fee_waiver(
    app, collections_ran, demo_case, browser: Browser, browser_context_args, tmp_path
):
    url = collections_ran["url"]
    app.config["UPLOAD_DIR"] = str(tmp_path)
    loan_id, case_id = demo_case
    screenshot = tmp_path / "call-log.png"
    screenshot.write_bytes(PNG)

    borrower = browser.new_context(**browser_context_args).new_page()
    _login(borrower, url, "borrower@demo.test")
    borrower.goto(f"{url}/loans/{loan_id}")
    owed_before = borrower.get_by_test_id("loan-owed").inner_text()
    borrower.goto(f"{url}/complaints/new")
    form = borrower.get_by_test_id("complaint-form")
    form.locator("select[name=category]").select_option("collection_conduct")
    form.locator("select[name=loan_id]").select_option(str(loan_id))
    form.locator("textarea[name=description]").fill("催收员晚上十一点还在给我打电话。")
    form.locator("input[name=attachments]").set_input_files(str(screenshot))
    form.get_by_test_id("complaint-submit").click()
    reference = borrower.get_by_test_id("complaint-reference")
    expect(reference).to_have_text(re.compile(r"^CMP-\d{4}-\d{6}$"))
    reference_text = reference.inner_text()
    expect(borrower.get_by_test_id("complaint-files")).to_contain_text("call-log.png")
    expect(borrower.get_by_test_id("complaint-deadline")).to_be_visible()

    admin = browser.new_context(**browser_context_args).new_page()
    _login(admin, url, "admin@demo.test")
    admin.goto(f"{url}/staff/complaints/")
    row = admin.get_by_test_id("queue-row").filter(has_text=reference_text)
    row.get_by_role("link", name=reference_text).click()
    expect(admin.get_by_test_id("complaint-files")).to_contain_text("call-log.png")
    admin.get_by_test_id("step-acknowledge").click()
    expect(admin.get_by_test_id("complaint-status")).to_have_text("已受理")
    admin.get_by_test_id("step-investigate").click()
    expect(admin.get_by_test_id("complaint-status")).to_have_text("调查中")
    resolve = admin.get_by_test_id("resolve-form")
    resolve.locator("textarea[name=resolution]").fill("We have waived the fees and interest due.")
    resolve.locator("select[name=remedy]").select_option("waiver")
    resolve.locator("input[name=components][value=fee]").check()
    resolve.locator("input[name=components][value=interest]").check()
    resolve.locator("select[name=root_cause]").select_option("staff_conduct")
    resolve.get_by_role("button", name="办结").click()
    expect(admin.get_by_test_id("complaint-resolution")).to_contain_text("已减免费用")

    borrower.reload()
    expect(borrower.get_by_test_id("complaint-resolution")).to_contain_text(
        "We have waived the fees and interest due."
    )
    borrower.goto(f"{url}/loans/{loan_id}")
    expect(borrower.get_by_test_id("loan-owed")).not_to_have_text(owed_before)
    with app.app_context():
        assert _fees_and_interest_due(loan_id, collections_ran["today"]) == 0

    admin.goto(f"{url}/staff/collections/cases/{case_id}")
    expect(admin.get_by_text("暂停联系").first).to_be_visible()
    expect(admin.get_by_text("恢复联系").first).to_be_visible()
    borrower.context.close()
    admin.context.close()


LIVE = 15_000  # what arrives over Socket.IO from the other browser, on a busy machine


def test_an_agent_turns_a_chat_into_a_complaint_in_one_click(
    app, live_server, browser: Browser, browser_context_args
):
    """The complaint keeps the chat as its transcript and its clock starts at the borrower's
    first message, not at the click."""
    borrower = browser.new_context(**browser_context_args).new_page()
    agent = browser.new_context(**browser_context_args).new_page()
    _login(borrower, live_server, "borrower@demo.test")
    borrower.goto(f"{live_server}/support/chat")
    borrower.get_by_label("争议或投诉", exact=True).check()
    borrower.get_by_test_id("support-start-submit").click()
    expect(borrower.get_by_test_id("support-queue")).to_be_visible(timeout=LIVE)
    borrower.get_by_test_id("support-body").fill("催收员骂我，我要投诉。")
    borrower.get_by_test_id("support-send").click()

    _login(agent, live_server, "agent@demo.test")
    agent.goto(f"{live_server}/staff/support/")
    agent.get_by_test_id("support-pick").click()
    expect(agent.get_by_test_id("support-thread")).to_contain_text(
        "催收员骂我，我要投诉。", timeout=LIVE
    )
    form = agent.get_by_test_id("support-complaint-form")
    form.locator("select[name=category]").select_option("collection_conduct")
    form.get_by_test_id("support-complaint-open").click()

    expect(agent.get_by_test_id("complaint-reference")).to_have_text(
        re.compile(r"^CMP-\d{4}-\d{6}$")
    )
    expect(agent.get_by_test_id("complaint-transcript")).to_contain_text("催收员骂我，我要投诉。")
    with app.app_context():
        complaint = db.session.scalar(select(Complaint))
        first = db.session.scalar(
            select(func.min(ConversationMessage.created_at)).where(
                ConversationMessage.conversation_id == complaint.conversation_id,
                ConversationMessage.sender == Sender.BORROWER,
            )
        )
        assert complaint.received_at == first  # not the moment of the click

    borrower.goto(f"{live_server}/complaints/{complaint.reference}")
    expect(borrower.get_by_test_id("complaint-transcript")).to_contain_text(
        "催收员骂我，我要投诉。"
    )
    borrower.context.close()
    agent.context.close()
