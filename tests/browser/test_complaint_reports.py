"""Browser: an admin goes from the complaints queue to the reports, sees the chart by category
drawn under the Content-Security-Policy and the table under it, and downloads the CSV."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.auth.models import User
from portal.complaints.models import ComplaintCategory, ComplaintChannel
from portal.complaints.services import file_complaint
from portal.extensions import db
from portal.timeutil import utcnow
from tests.browser.test_security_headers import (  # noqa: F401  (the fixture)
    _assert_no_violation,
    _chart_drawn,
    _sign_in,
    csp_page,
)
from tests.complaints.conftest import SETTINGS

pytestmark = pytest.mark.browser


def test_admin_reads_the_complaint_reports(app, live_server, csp_page: Page):  # noqa: F811
    with app.app_context():
        borrower = db.session.scalar(select(User).where(User.email == "borrower@demo.test"))
        now = utcnow()
        file_complaint(
            borrower=borrower,
            category=ComplaintCategory.PRIVACY,
            description="My details were shared with my employer.",
            loan_id=None,
            payment_id=None,
            uploads=[],
            channel=ComplaintChannel.PORTAL,
            received_at=now,
            now=now,
            settings=SETTINGS,
        )
        db.session.commit()
    page = csp_page
    _sign_in(page, live_server, "admin@demo.test")
    page.goto(f"{live_server}/staff/complaints/")
    page.get_by_test_id("reports-link").click()
    expect(page.get_by_role("heading", name="投诉报告")).to_be_visible()
    assert _chart_drawn(page, "category-chart")
    expect(page.get_by_test_id("category-table-privacy")).to_contain_text("1")
    _assert_no_violation(page)
    with page.expect_download() as download:
        page.get_by_test_id("csv-link").click()
    assert download.value.suggested_filename.startswith("complaints-by-category-")
