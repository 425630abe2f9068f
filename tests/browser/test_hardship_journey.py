"""Hardship, end to end: a demo borrower with an overdue loan declares hardship with a PDF, an
admin decides on the case page, and the borrower sees the decision."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from portal.auth.models import User
from portal.collections.models import CaseStatus, CollectionCase
from portal.extensions import db
from tests.hardship.conftest import PDF

pytestmark = pytest.mark.browser


def _login(page: Page, url: str, email: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill("demo1234")
    page.get_by_role("button", name="登录").click()


@pytest.fixture
def overdue_borrower(app, collections_ran):
    """(email, loan id, case id) of a demo borrower other than borrower@demo.test with an
    open case."""
    with app.app_context():
        row = db.session.execute(
            select(User.email, CollectionCase.loan_id, CollectionCase.id)
            .join(User, User.id == CollectionCase.borrower_id)
            .where(CollectionCase.status == CaseStatus.OPEN, User.email != "borrower@demo.test")
            .order_by(CollectionCase.id)
            .limit(1)
        ).one()
    return tuple(row)


def test_borrower_declares_hardship_admin_decides_borrower_sees_it(
    app, collections_ran, overdue_borrower, browser: Browser, browser_context_args, tmp_path
):
    url = collections_ran["url"]
    app.config["UPLOAD_DIR"] = str(tmp_path)
    email, loan_id, case_id = overdue_borrower
    document = tmp_path / "hospital-letter.pdf"
    document.write_bytes(PDF)

    borrower = browser.new_context(**browser_context_args).new_page()
    _login(borrower, url, email)
    borrower.goto(f"{url}/loans/{loan_id}")
    borrower.get_by_test_id("hardship-link").click()
    form = borrower.get_by_test_id("hardship-form")
    form.locator("select[name=reason]").select_option("illness")
    form.locator("textarea[name=details]").fill("In hospital since last month.")
    form.locator("input[name=documents]").set_input_files(str(document))
    form.get_by_test_id("hardship-submit").click()
    request = borrower.get_by_test_id("hardship-request")
    expect(request.get_by_test_id("hardship-status")).to_have_text("审核中")
    expect(request.get_by_test_id("hardship-document")).to_have_text("hospital-letter.pdf")

    admin = browser.new_context(**browser_context_args).new_page()
    _login(admin, url, "admin@demo.test")
    admin.goto(f"{url}/staff/collections/cases/{case_id}")
    panel = admin.get_by_test_id("case-hardship")
    expect(panel.get_by_test_id("hardship-document")).to_have_text("hospital-letter.pdf")
    decide = panel.get_by_test_id("hardship-decide-form")
    decide.locator("select[name=hardship-decision]").select_option("pause")
    decide.locator("input[name=hardship-pause_days]").fill("30")
    decide.locator("textarea[name=hardship-reason]").fill("A month to recover from illness.")
    decide.get_by_test_id("hardship-decide").click()
    expect(
        admin.get_by_test_id("case-hardship").get_by_test_id("hardship-decision")
    ).to_contain_text("A month to recover from illness.")

    borrower.reload()
    decision = borrower.get_by_test_id("hardship-decision")
    expect(decision).to_contain_text("暂停催收")
    expect(decision.get_by_test_id("hardship-decision-reason")).to_have_text(
        "A month to recover from illness."
    )
    borrower.context.close()
    admin.context.close()
