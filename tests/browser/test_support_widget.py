"""The chat launcher on a phone: the demo borrower opens it from the dashboard, starts a chat in
the full-screen panel, and the agent's reply shows there."""

import re

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.test_support_chat import LIVE, _sign_in

pytestmark = pytest.mark.browser


def test_borrower_chats_from_the_dashboard_launcher_on_a_phone(app, live_server, browser: Browser):
    phone = browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 390, "height": 844}
    )
    desk = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    borrower, agent = phone.new_page(), desk.new_page()
    try:
        _sign_in(borrower, live_server, "borrower@demo.test")
        frame_element = borrower.locator("#support-widget-frame")
        expect(frame_element).not_to_have_attribute("src", re.compile("."))  # lazy until opened
        borrower.get_by_test_id("support-widget-launcher").click()
        panel = borrower.locator("#support-widget-panel")
        expect(panel).to_be_visible()
        box = panel.bounding_box()
        assert box is not None
        assert box["width"] >= 380  # full screen on a phone
        chat = borrower.frame_locator("#support-widget-frame")
        chat.get_by_label("还款", exact=True).check()
        chat.get_by_test_id("support-start-submit").click()
        expect(chat.get_by_test_id("support-queue")).to_contain_text("排第 1 位", timeout=LIVE)

        _sign_in(agent, live_server, "agent@demo.test")
        agent.get_by_test_id("nav-support").click()
        expect(agent.get_by_test_id("support-queued")).to_have_count(1, timeout=LIVE)
        agent.get_by_test_id("support-pick").click()
        agent.get_by_test_id("support-body").fill("您好，请问有什么可以帮您？")
        agent.get_by_test_id("support-send").click()
        expect(chat.get_by_test_id("support-thread")).to_contain_text(
            "您好，请问有什么可以帮您？", timeout=LIVE
        )
    finally:
        phone.close()
        desk.close()
