"""Borrower pages on a 390×844 phone: nothing runs off the screen, in Chinese and in English."""

import os

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.auth.models import User
from portal.extensions import db

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
SCREENSHOTS = os.environ.get("PHONE_SCREENSHOTS")  # a folder: keep screenshots to look at


def _sign_in(page: Page, live_server: str) -> None:
    page.goto(f"{live_server}/login")
    page.locator("input[name=email]").fill("borrower@demo.test")
    page.locator("input[name=password]").fill("demo1234")
    page.locator("form button[type=submit]").first.click()
    expect(page.get_by_test_id("loan-list")).to_be_visible()


def _fits(page: Page) -> None:
    """No horizontal scrolling: the page is no wider than the phone."""
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"{page.url} is {width}px wide on a {inner}px screen"


def _inside(page: Page, test_id: str) -> None:
    box = page.get_by_test_id(test_id).first.bounding_box()
    assert box is not None, test_id
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= PHONE["width"], f"{test_id} ends at {box}"


def _shot(page: Page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_borrower_pages_fit_a_phone(app, live_server, page: Page, locale):
    """Dashboard, loan (what is owed today and its Pay button at the top, the schedule's amount
    still due and status on screen), notices, a notice (its Pay button), contact settings and
    emergency contacts: none is wider than a 390px phone."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "borrower@demo.test"))
        user.locale = locale
        db.session.commit()
    page.set_viewport_size(PHONE)
    _sign_in(page, live_server)
    _fits(page)
    for test_id in ("owed-payoff", "pay-button"):  # what is owed today, and the way to pay it
        _inside(page, test_id)
    _shot(page, f"dashboard-{locale}")

    page.get_by_test_id("loan-list").get_by_role("link").first.click()
    expect(page.get_by_test_id("schedule")).to_be_visible()
    _fits(page)
    for test_id in ("owed-overdue", "owed-payoff", "pay-button"):  # first on the screen
        expect(page.get_by_test_id(test_id).first).to_be_in_viewport()
        _inside(page, test_id)
    page.get_by_test_id("still-due").first.scroll_into_view_if_needed()
    for test_id in ("still-due", "installment-status"):
        expect(page.get_by_test_id(test_id).first).to_be_in_viewport()
        _inside(page, test_id)
    _shot(page, f"loan-{locale}")

    for path in ("/notices/", "/settings/contact", "/settings/emergency-contacts"):
        page.goto(f"{live_server}{path}")
        _fits(page)
    page.goto(f"{live_server}/notices/")
    page.get_by_test_id("notice-list").get_by_role("link").first.click()
    expect(page.get_by_test_id("notice-body")).to_be_visible()
    _fits(page)
    _inside(page, "pay-button")
    _shot(page, f"notice-{locale}")
