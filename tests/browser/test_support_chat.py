"""The support chat in two browsers: the demo borrower waits in the queue, the demo agent takes
the chat, they exchange messages live (typing shown), the agent closes, the borrower rates."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.browser
# What arrives over Socket.IO from the other browser: generous on a busy two-core machine.
LIVE = 15_000


def _sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill("demo1234")
    page.get_by_role("button", name="登录").click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def test_borrower_and_agent_chat_then_close_and_rate(app, live_server, browser: Browser):
    """Queue place, take, two-way messages with typing, HTML shown as text, a pay link from
    the customer panel, close, rating."""
    app.config["PUBLIC_URL"] = live_server  # links in messages point at the server under test
    phone = browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 390, "height": 844}
    )
    desk = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    borrower, agent = phone.new_page(), desk.new_page()
    try:
        _sign_in(borrower, live_server, "borrower@demo.test")
        borrower.get_by_test_id("support-chat-link").click()  # beside "contact us"
        borrower.get_by_label("还款", exact=True).check()
        borrower.get_by_test_id("support-start-submit").click()
        expect(borrower.get_by_test_id("support-queue")).to_contain_text("排第 1 位", timeout=LIVE)

        _sign_in(agent, live_server, "agent@demo.test")
        agent.get_by_test_id("nav-support").click()
        expect(agent.get_by_test_id("support-queued")).to_have_count(1, timeout=LIVE)
        agent.get_by_test_id("support-pick").click()
        expect(agent.get_by_test_id("customer-panel")).to_contain_text("LN-DEMO-0001", timeout=LIVE)
        expect(borrower.get_by_test_id("support-status")).to_contain_text(
            "客服接待中", timeout=LIVE
        )
        expect(borrower.get_by_test_id("support-thread")).to_contain_text(
            "客服已加入对话", timeout=LIVE
        )

        # The agent's thread is filled over its socket: once it shows, the agent's page is in
        # the conversation's room and hears the borrower typing.
        expect(agent.get_by_test_id("support-thread")).to_contain_text(
            "客服已加入对话", timeout=LIVE
        )
        borrower.get_by_test_id("support-body").fill("<b>下周五</b>还款可以吗？")
        expect(agent.get_by_test_id("support-typing")).to_be_visible(timeout=LIVE)
        borrower.get_by_test_id("support-send").click()
        expect(agent.get_by_test_id("support-thread")).to_contain_text(
            "<b>下周五</b>还款可以吗？", timeout=LIVE
        )
        expect(agent.locator("#support-thread b")).to_have_count(0)  # shown as text, not HTML

        agent.get_by_test_id("support-body").fill("可以，我帮您登记。")
        agent.get_by_test_id("support-body").press("Enter")
        expect(borrower.get_by_test_id("support-thread")).to_contain_text(
            "可以，我帮您登记。", timeout=LIVE
        )
        expect(borrower.get_by_test_id("support-message")).to_have_count(3, timeout=LIVE)

        agent.get_by_test_id("panel-pay-link").last.click()
        agent.get_by_test_id("support-send").click()
        pay_link = borrower.get_by_test_id("support-thread").locator("a[href$='/pay']")
        expect(pay_link).to_have_count(1, timeout=LIVE)
        expect(pay_link).to_have_attribute(
            "href", re.compile(rf"^{re.escape(live_server)}/loans/"), timeout=LIVE
        )

        agent.get_by_test_id("support-close").click()
        expect(borrower.get_by_test_id("support-rating")).to_be_visible(timeout=LIVE)
        borrower.get_by_label("5", exact=True).check()
        borrower.get_by_test_id("support-rate").click()
        expect(borrower.get_by_role("alert")).to_contain_text("感谢您的评分", timeout=LIVE)
        expect(borrower.get_by_test_id("support-start")).to_be_visible(timeout=LIVE)
    finally:
        phone.close()
        desk.close()
