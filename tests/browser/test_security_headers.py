"""Browser: the main pages of each role run under the Content-Security-Policy without a
violation, and their scripts (charts, the template preview, the case page) still work."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

pytestmark = pytest.mark.browser

# Every document (the page and its frames) records the violations the browser reports.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
});
"""


@pytest.fixture
def csp_page(page: Page) -> Page:
    """A page that records CSP violations, both as events and as console messages."""
    page.add_init_script(RECORD_VIOLATIONS)
    messages: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            messages.append(message.text)

    page.on("console", on_console)
    page.csp_console = messages  # type: ignore[attr-defined]
    return page


def _visit(page: Page, url: str) -> None:
    """Open a page, check it was sent with the policy, and let its scripts run."""
    response = page.goto(url)
    assert response is not None
    assert response.ok, url
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    page.wait_for_load_state("load")


def _assert_no_violation(page: Page) -> None:
    for frame in page.frames:
        assert frame.evaluate("window.__cspViolations || []") == [], frame.url
    assert page.csp_console == []  # type: ignore[attr-defined]


def _sign_in(page: Page, live_server: str, email: str) -> None:
    page.goto(f"{live_server}/login")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill("demo1234")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("button", name="退出登录", exact=True)).to_be_visible()


def _chart_drawn(page: Page, canvas_id: str) -> bool:
    """Whether Chart.js draws the chart (it runs after the deferred scripts load: on a busy
    machine that can take a moment, so wait for it rather than look once)."""
    try:
        page.wait_for_function(
            "id => { const c = document.getElementById(id);"
            " return !!(c && window.Chart && Chart.getChart(c) && c.width > 0); }",
            arg=canvas_id,
            timeout=15_000,
        )
    except PlaywrightTimeoutError:
        return False
    return True


def test_borrower_pages_report_no_csp_violation(live_server, csp_page: Page):
    """Dashboard, loan, notices, contact settings and emergency contacts: no violation, and the
    language switcher still works."""
    page = csp_page
    _sign_in(page, live_server, "borrower@demo.test")
    _assert_no_violation(page)
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("link", name=re.compile("LN-DEMO-0001")).first.click()
    expect(page.get_by_test_id("schedule")).to_be_visible()
    _assert_no_violation(page)
    for path in ("/notices/", "/settings/contact", "/settings/emergency-contacts"):
        _visit(page, f"{live_server}{path}")
        _assert_no_violation(page)


def test_collector_pages_report_no_csp_violation(collections_ran, csp_page: Page):  # noqa: F811
    """The queue and a case page: no violation, and the case page's script reveals the phone."""
    page, live_server = csp_page, collections_ran["url"]
    _sign_in(page, live_server, "collector@demo.test")
    _visit(page, f"{live_server}/staff/collections/queue")
    _assert_no_violation(page)
    page.get_by_test_id("queue-row").first.get_by_test_id("case-link").click()
    page.get_by_test_id("reveal-phone").click()
    expect(page.get_by_test_id("phone")).to_have_text(re.compile(r"^\+86138\d{8}$"))
    _assert_no_violation(page)


def test_admin_pages_report_no_csp_violation(collections_ran, csp_page: Page):  # noqa: F811
    """Staff home, portfolio, strategy, message log, template editor, legal requests: no
    violation; the charts are drawn and the editor's preview (text and HTML) updates."""
    page, live_server = csp_page, collections_ran["url"]
    _sign_in(page, live_server, "admin@demo.test")
    assert _chart_drawn(page, "bucket-chart")  # staff home
    _visit(page, f"{live_server}/staff/reports/portfolio")
    for canvas in ("bucket-chart", "recovered-chart", "collector-chart"):
        assert _chart_drawn(page, canvas), canvas
    _assert_no_violation(page)
    for path in (
        "/staff/collections/strategy",
        "/staff/messaging/messages",
        "/staff/collections/legal/requests",
    ):
        _visit(page, f"{live_server}{path}")
        _assert_no_violation(page)

    _visit(page, f"{live_server}/staff/messaging/templates/due_today/email/en")
    page.get_by_test_id("field-body-text").fill("Hello {{ borrower_name }}")
    expect(page.get_by_test_id("preview-text")).to_have_text("Hello Wang Fang 王芳")
    # E-mail HTML carries its styles inline (as e-mail clients need): the preview shows them.
    page.get_by_test_id("field-body-html").fill(
        '<p id="greeting" style="color: rgb(200, 0, 0)">Hi {{ borrower_name }}</p>'
    )
    greeting = page.frame_locator("[data-testid=preview-html]").locator("#greeting")
    expect(greeting).to_have_text("Hi Wang Fang 王芳")
    expect(greeting).to_have_css("color", "rgb(200, 0, 0)")
    _assert_no_violation(page)


def test_payment_pages_report_no_csp_violation(live_server, csp_page: Page):
    """The pay page, the sandbox checkout and the processing page (with its script)."""
    page = csp_page
    _sign_in(page, live_server, "borrower@demo.test")
    page.get_by_role("link", name=re.compile("LN-DEMO-0001")).first.click()
    _visit(page, page.url + "/pay")
    _assert_no_violation(page)
    page.get_by_test_id("continue").click()
    expect(page.get_by_test_id("sandbox-banner")).to_be_visible()
    _assert_no_violation(page)
    page.locator("input[name=card_number]").fill("4000 0000 0000 0002")
    page.locator("input[name=expiry]").fill("12/34")
    page.locator("input[name=cvc]").fill("123")
    page.get_by_test_id("sandbox-pay").click()
    expect(page.get_by_test_id("state-declined")).to_be_visible()
    _assert_no_violation(page)
