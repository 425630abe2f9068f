import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_demo_borrower_signs_in_reads_chinese_switches_to_english_and_signs_out(
    live_server, page: Page
):
    """The demo borrower sees the dashboard in Chinese, switches to English, signs out."""
    page.goto(f"{live_server}/login")
    page.get_by_label("邮箱").fill("borrower@demo.test")
    page.get_by_label("密码").fill("demo1234")
    page.get_by_role("button", name="登录").click()

    expect(page).to_have_url(f"{live_server}/")
    expect(page.get_by_test_id("overdue-summary")).to_contain_text("逾期金额")
    expect(page.get_by_test_id("overdue-summary")).to_contain_text("¥")
    expect(page.get_by_test_id("loan-list")).to_contain_text("LN-DEMO-0001")
    expect(page.get_by_test_id("dpd-badge")).to_contain_text("逾期")

    page.get_by_role("button", name="English").click()
    expect(page.get_by_test_id("overdue-summary")).to_contain_text("Overdue amount")
    expect(page.get_by_test_id("next-due")).to_contain_text("Next due date")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.get_by_role("link", name=re.compile("LN-DEMO-0001")).click()
    expect(page.get_by_test_id("schedule")).to_contain_text("Overdue")

    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page).to_have_url(f"{live_server}/login")
    expect(page.get_by_role("alert")).to_contain_text("You have signed out")
    page.goto(f"{live_server}/")
    expect(page).to_have_url(re.compile(r"/login"))
