"""Browser: the template editor's live preview, sandboxed HTML preview, and saving."""

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

EDITOR = "/staff/messaging/templates/due_today/email/en"
DRAFT = "Hello {{ borrower_name }}, {{ loan_reference }}: {{ amount_due }}"


def _sign_in_as_admin(page: Page, live_server: str) -> None:
    page.goto(f"{live_server}/login")
    page.locator("input[name=email]").fill("admin@demo.test")
    page.locator("input[name=password]").fill("demo1234")
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/staff/$"))


def test_admin_edits_a_template_with_a_live_preview_and_saves_it(live_server, page: Page):
    """Typing updates the preview (text and sandboxed HTML); errors show; saving adds a version."""
    _sign_in_as_admin(page, live_server)
    page.goto(f"{live_server}{EDITOR}")
    preview_text = page.get_by_test_id("preview-text")
    expect(preview_text).to_contain_text("LN-DEMO-0001")  # the installed default, on load
    expect(page.get_by_test_id("current-version")).to_contain_text("1")

    body = page.get_by_test_id("field-body-text")
    body.fill(DRAFT)
    expect(preview_text).to_have_text("Hello Wang Fang 王芳, LN-DEMO-0001: CN¥1,055.00")
    expect(page.get_by_test_id("preview-errors")).to_be_empty()

    page.get_by_test_id("field-body-html").fill(
        '<p id="greeting">Hi {{ borrower_name }}</p>'
        "<script>parent.document.body.setAttribute('data-pwned', '1')</script>"
    )
    frame = page.get_by_test_id("preview-html")
    expect(frame).to_have_attribute("sandbox", "")
    expect(page.frame_locator("[data-testid=preview-html]").locator("#greeting")).to_have_text(
        "Hi Wang Fang 王芳"
    )
    expect(page.locator("body")).not_to_have_attribute("data-pwned", "1")

    body.fill(DRAFT + " {{ bank_password }}")
    expect(page.get_by_test_id("preview-errors")).to_contain_text("bank_password")

    body.fill(DRAFT + " ")
    body.press("End")
    page.locator("[data-variable=pay_url]").click()
    expect(body).to_have_value(DRAFT + " {{ pay_url }}")
    expect(preview_text).to_contain_text("/loans/1")

    page.get_by_test_id("save-template").click()
    expect(page).to_have_url(f"{live_server}{EDITOR}")
    expect(page.get_by_test_id("current-version")).to_contain_text("2")
    expect(page.get_by_test_id("history").locator("tbody tr")).to_have_count(2)
