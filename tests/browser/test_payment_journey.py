"""The demo borrower repays from the overdue notice in the sandbox, in three screens."""

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from portal.extensions import db
from portal.loans.models import Loan, Payment

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _sign_in(page: Page, live_server: str) -> None:
    page.goto(f"{live_server}/login")
    page.locator("input[name=email]").fill("borrower@demo.test")
    page.locator("input[name=password]").fill("demo1234")
    page.locator("form button[type=submit]").first.click()
    expect(page.get_by_test_id("loan-list")).to_be_visible()


def _payments(app) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count())
            .select_from(Payment)
            .join(Loan)
            .where(Loan.reference == "LN-DEMO-0001")
        )


def _pay_with(page: Page, card: str) -> None:
    """On the sandbox checkout: a test card, a future expiry, any CVC, then pay."""
    expect(page.get_by_test_id("sandbox-banner")).to_contain_text("沙盒")
    page.get_by_label("卡号").fill(card)
    page.get_by_label("有效期（MM/YY）").fill("12/34")
    page.get_by_label("安全码（CVC）").fill("123")
    page.get_by_test_id("sandbox-pay").click()


def test_pay_the_overdue_amount_from_the_notice_then_a_declined_card_books_nothing(
    app, live_server, page: Page
):
    """Notice -> pay page -> sandbox 4242: paid, nothing overdue; then 0002 is declined."""
    _sign_in(page, live_server)
    page.get_by_test_id("nav-notices").click()
    page.get_by_test_id("notice-list").get_by_role("link").first.click()
    overdue_text = page.get_by_test_id("notice-loan").get_by_test_id("owed-overdue").inner_text()
    paid_before = _payments(app)

    page.get_by_role("link", name="立即还款").click()  # screen 1: what to pay
    option = page.get_by_test_id("option-overdue")
    expect(option.locator("input[type=radio]")).to_be_checked()
    expect(page.get_by_test_id("amount-overdue")).to_have_text(overdue_text)
    expect(option.get_by_test_id("allocation")).to_be_visible()
    expect(option.get_by_test_id("allocation")).to_contain_text("本金")
    page.get_by_test_id("continue").click()

    expect(page.get_by_test_id("checkout-amount")).to_have_text(overdue_text)  # screen 2
    _pay_with(page, "4242 4242 4242 4242")

    expect(page.get_by_test_id("state-paid")).to_be_visible()  # screen 3
    expect(page.get_by_test_id("state-paid")).to_contain_text("已支付")
    assert _payments(app) == paid_before + 1
    page.get_by_role("link", name="查看收据").click()  # the receipt, with its PDF
    expect(page.get_by_test_id("receipt-pdf")).to_be_visible()
    expect(page.locator("main")).to_contain_text(overdue_text)

    page.goto(f"{live_server}/")
    expect(page.get_by_test_id("overdue-summary")).to_contain_text("暂无逾期")
    demo_loan = page.get_by_test_id("loan-list").get_by_role(
        "link", name=re.compile("LN-DEMO-0001")
    )
    expect(demo_loan.get_by_test_id("dpd-badge")).to_have_count(0)

    # A second payment with a card that is declined: the decline, in Chinese, and nothing booked.
    demo_loan.click()
    page.goto(page.url + "/pay")
    page.get_by_test_id("option-payoff").locator("input[type=radio]").check()
    page.get_by_test_id("continue").click()
    _pay_with(page, "4000 0000 0000 0002")
    expect(page.get_by_test_id("state-declined")).to_contain_text("您的卡被拒绝")
    expect(page.get_by_test_id("try-again")).to_be_visible()
    assert _payments(app) == paid_before + 1


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_pay_page_fits_a_phone(app, live_server, page: Page, lang):
    """The pay page, the sandbox checkout and the processing page are no wider than a phone."""
    from portal.auth.models import User

    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "borrower@demo.test"))
        user.locale = lang
        db.session.commit()
    page.set_viewport_size(PHONE)
    _sign_in(page, live_server)
    page.get_by_test_id("loan-list").get_by_role("link").first.click()
    page.goto(f"{page.url}/pay")
    expect(page.get_by_test_id("pay-form")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN" if lang == "zh_CN" else "en")
    for test_id in ("continue", "sandbox-pay", "payment-status"):
        width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width <= inner, f"{page.url} is {width}px wide on a {inner}px screen"
        box = page.get_by_test_id(test_id).bounding_box()
        assert box is not None, test_id
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= PHONE["width"], test_id
        if test_id == "continue":
            page.get_by_test_id("continue").click()
        elif test_id == "sandbox-pay":
            page.locator("input[name=card_number]").fill("4242 4242 4242 4242")
            page.locator("input[name=expiry]").fill("12/34")
            page.locator("input[name=cvc]").fill("123")
            page.get_by_test_id("sandbox-pay").click()
        page.wait_for_load_state()


def test_processing_page_turns_to_paid_by_itself(app, live_server, page: Page):
    """A confirmed payment waits on "processing"; when the verified event lands, the page
    shows "paid" without a reload (static/js/payment_status.js polling the status)."""
    from portal.auth.models import User
    from portal.loans.services import loan_position
    from portal.payments.events import process_event
    from portal.payments.models import PaymentAttempt, PayOption, Provider
    from portal.payments.sandbox_checkout import TEST_CARDS, intent_event
    from portal.payments.services import mark_confirming, start_payment
    from portal.timeutil import local_today, utcnow

    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "borrower@demo.test"))
        loan = db.session.scalar(select(Loan).where(Loan.reference == "LN-DEMO-0001"))
        today = local_today(user.timezone, utcnow())
        overdue = loan_position(loan, today).overdue
        attempt = start_payment(
            borrower_id=user.id,
            loan_id=loan.id,
            option=PayOption.OVERDUE,
            amount_minor=overdue,
            today=today,
            now=utcnow(),
        )
        mark_confirming(user.id, attempt.id, now=utcnow())
        db.session.commit()
        attempt_id = attempt.id

    _sign_in(page, live_server)
    page.goto(f"{live_server}/payments/{attempt_id}/processing")
    expect(page.get_by_test_id("state-processing")).to_be_visible()
    expect(page.get_by_test_id("state-paid")).to_be_hidden()

    with app.app_context():
        attempt = db.session.get(PaymentAttempt, attempt_id)
        event = intent_event(attempt, TEST_CARDS["4242424242424242"], now=utcnow())
        process_event(event, provider=Provider.SANDBOX, now=utcnow())
        db.session.commit()

    expect(page.get_by_test_id("state-paid")).to_be_visible(timeout=8000)
    expect(page.get_by_test_id("state-processing")).to_be_hidden()
