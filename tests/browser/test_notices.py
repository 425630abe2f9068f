import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_borrower_reads_overdue_notice_and_unread_count_drops(live_server, page: Page):
    """The demo borrower opens the overdue notice; the unread badge goes down by one."""
    page.goto(f"{live_server}/login")
    page.get_by_label("邮箱").fill("borrower@demo.test")
    page.get_by_label("密码").fill("demo1234")
    page.get_by_role("button", name="登录").click()

    badge = page.get_by_test_id("unread-count")
    expect(badge).to_be_visible()
    unread_before = int(badge.inner_text())

    page.get_by_test_id("nav-notices").click()
    first = page.get_by_test_id("notice-list").get_by_role("link").first
    expect(first).to_contain_text("新")
    first.click()

    loan_panel = page.get_by_test_id("notice-loan")
    expect(loan_panel).to_contain_text("逾期 12 天")
    expect(loan_panel).to_contain_text("本金")
    expect(page.get_by_test_id("notice-body")).to_contain_text("LN-DEMO-0001")
    expect(page.get_by_role("link", name="立即还款")).to_have_attribute(
        "href", re.compile(r"/pay$")
    )
    if unread_before == 1:
        expect(page.get_by_test_id("unread-count")).to_have_count(0)
    else:
        expect(page.get_by_test_id("unread-count")).to_have_text(str(unread_before - 1))
