"""A collector's day: the queue, the top case, a call ending in a promise, both on the timeline."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_collector_logs_a_call_with_a_promise_and_sees_both_on_the_timeline(
    collections_ran, page: Page
):
    """collector@demo.test opens the top case of the queue, reveals the phone number, logs a
    call that ends in a promise to pay, and finds the call and the pending promise at the top of
    the case's timeline."""
    live_server = collections_ran["url"]
    page.goto(f"{live_server}/login")
    page.get_by_label("邮箱").fill("collector@demo.test")
    page.get_by_label("密码").fill("demo1234")
    page.get_by_role("button", name="登录").click()

    page.goto(f"{live_server}/staff/collections/queue")
    rows = page.get_by_test_id("queue-row")
    expect(rows.first).to_be_visible()
    expect(rows.first.get_by_test_id("queue-reason")).not_to_be_empty()
    reference = rows.first.get_by_test_id("case-link").inner_text()
    rows.first.get_by_test_id("case-link").click()
    expect(page.get_by_test_id("case-title")).to_contain_text(reference)
    expect(page.get_by_test_id("phone")).to_contain_text("****")
    page.get_by_test_id("reveal-phone").click()  # in place, by the page script
    expect(page.get_by_test_id("phone")).to_have_text(re.compile(r"^\+86138\d{8}$"))
    expect(page.get_by_test_id("reveal-phone")).to_have_count(0)

    form = page.get_by_test_id("call-form")
    promise_fields = form.locator("[data-promise-fields]")
    expect(promise_fields).to_be_hidden()
    form.locator("select[name=call-outcome]").select_option("promise_to_pay")
    expect(promise_fields).to_be_visible()
    form.locator("input[name=call-amount]").fill("100.00")
    form.locator("input[name=call-promised_on]").fill(collections_ran["today"].isoformat())
    form.locator("textarea[name=call-note]").fill("Will pay from salary")
    form.get_by_test_id("log-call").click()

    expect(page.get_by_role("alert")).to_contain_text("100.00")
    entries = page.get_by_test_id("timeline-entry")
    expect(entries.nth(0)).to_have_attribute("data-kind", "promise")
    expect(entries.nth(0).get_by_test_id("promise-amount")).to_contain_text("100.00")
    expect(entries.nth(0).get_by_test_id("promise-status")).to_be_visible()
    expect(entries.nth(1)).to_have_attribute("data-kind", "call")
    expect(entries.nth(1)).to_contain_text("Will pay from salary")
    expect(entries.nth(1).get_by_test_id("guard-decision")).to_have_count(1)
