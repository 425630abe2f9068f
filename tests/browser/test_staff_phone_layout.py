"""Staff tables on a 390×844 phone: amounts stay on one line and the page never scrolls sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from portal.collections.run import run_collections
from portal.timeutil import local_today, utcnow

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}

# The first row's right-aligned cells (amounts, days): how many lines each takes on screen.
_LINES_PER_CELL = """table => Array.from(table.querySelectorAll('tbody tr:first-child .text-end'))
  .map(cell => { const r = document.createRange(); r.selectNodeContents(cell);
                 const tops = Array.from(r.getClientRects()).map(b => Math.round(b.top));
                 return new Set(tops).size; })"""


def _fits(page: Page) -> None:
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"{page.url} is {width}px wide on a {inner}px screen"


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_staff_tables_fit_a_phone(app, live_server, page: Page, locale):
    """Queue, overdue report and message log keep each amount on one line (the table scrolls
    inside its frame), and the prohibited-wording page is no wider than the phone."""
    today = local_today(app.config["DEFAULT_TIMEZONE"], utcnow())
    with app.app_context():
        assert run_collections(today, now=utcnow(), contacts=False).cases_opened > 0
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server}/login?lang={locale}")
    page.locator("input[name=email]").fill("admin@demo.test")
    page.locator("input[name=password]").fill("demo1234")
    page.locator("form button[type=submit]").first.click()
    page.goto(f"{live_server}/staff/?lang={locale}")

    for path, test_id in (
        ("/staff/collections/queue", "queue-table"),
        ("/staff/reports/overdue", "overdue-table"),
        ("/staff/messaging/messages", "message-table"),
    ):
        page.goto(f"{live_server}{path}")
        table = page.get_by_test_id(test_id)
        expect(table.locator("tbody tr").first).to_be_visible()
        _fits(page)
        lines = table.evaluate(_LINES_PER_CELL)
        assert lines, path
        assert all(n == 1 for n in lines), f"{path}: lines per amount cell {lines}"

    page.goto(f"{live_server}/staff/messaging/terms")
    expect(page.get_by_test_id("terms-en")).to_be_visible()
    _fits(page)
