"""What is owed as of today, on the dashboard and the loan page: balance, overdue by component
(late charges too), the next installment, the payoff and a Pay button, in both languages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.loans.models import Installment, PaymentMethod
from portal.loans.services import record_payment
from portal.timeutil import local_today, utcnow
from tests.conftest import count_queries, login, page_text


def _today():
    return local_today("Asia/Shanghai", utcnow())


@pytest.fixture
def late_loan(app, make_user, make_loan):
    """1,000 a month for 3 months, the first 10 days late with 25.00 of late charges; the last
    installment carries 50.00 of interest (not earned yet, so not in the payoff)."""

    def factory(locale: str = "en"):
        borrower = make_user(locale=locale)
        loan_id = make_loan(
            borrower.id,
            principal_minor=300_000,
            rate_bps=0,
            fee_minor=0,
            disbursed_on=_today() - timedelta(days=40),
            terms=3,
        )
        with app.app_context():
            installments = db.session.scalars(
                select(Installment).where(Installment.loan_id == loan_id).order_by("sequence")
            ).all()
            installments[0].late_charge_due = 2_500
            installments[2].interest_due = 5_000
            db.session.commit()
        return borrower, loan_id

    return factory


def test_loan_page_shows_what_is_owed_today_by_component(client, late_loan):
    """Balance, the overdue split (late charges on their own line), next installment, payoff."""
    borrower, loan_id = late_loan()
    login(client, borrower)
    response = client.get(f"/loans/{loan_id}")
    html = response.get_data(as_text=True)
    text = page_text(response)
    assert "What you owe" in text
    assert "Balance CN¥3,075.00" in text
    assert "Overdue CN¥1,025.00" in text
    assert "Principal CN¥1,000.00 Interest CN¥0.00 Late charges CN¥25.00 Fees CN¥0.00" in text
    assert "Next installment CN¥1,000.00 due" in text
    assert "Payoff amount today CN¥3,025.00" in text  # the last interest is not earned yet
    assert f'href="/loans/{loan_id}/pay"' in html
    assert re.search(r"Late charges.*CN¥25\.00", text)  # the schedule's own column


def test_loan_page_in_chinese(client, late_loan):
    """The same figures, in Chinese words."""
    borrower, loan_id = late_loan(locale="zh_CN")
    login(client, borrower)
    text = page_text(client.get(f"/loans/{loan_id}"))
    assert "您的应还金额" in text
    assert "未还余额 ¥3,075.00" in text
    assert "滞纳金 ¥25.00" in text
    assert "今日提前结清金额 ¥3,025.00" in text
    assert "立即还款" in text


def test_dashboard_shows_each_loan_owed_today_with_a_pay_button(app, client, late_loan, make_loan):
    """Each loan with a balance has its figures and its own Pay button; a paid one says so."""
    borrower, loan_id = late_loan()
    paid_id = make_loan(borrower.id, principal_minor=50_000, rate_bps=0, fee_minor=0, terms=1)
    with app.app_context():
        record_payment(
            loan_id=paid_id,
            amount_minor=50_000,
            currency="CNY",
            method=PaymentMethod.CARD,
            received_at=utcnow(),
        )
        db.session.commit()
    login(client, borrower)
    response = client.get("/")
    html = response.get_data(as_text=True)
    text = page_text(response)
    assert "Late charges CN¥25.00" in text
    assert "Payoff amount today CN¥3,025.00" in text
    assert f'href="/loans/{loan_id}/pay"' in html
    assert f'href="/loans/{paid_id}/pay"' not in html
    assert "Nothing is owed on this loan. Thank you." in text
    assert html.count('data-testid="pay-button"') == 1


def test_dashboard_shows_only_the_borrower_s_own_loans(client, make_user, make_loan, late_loan):
    """Another borrower's loan and its Pay button never appear."""
    _, other_loan = late_loan()
    me = make_user(locale="en")
    mine = make_loan(me.id)
    login(client, me)
    html = client.get("/").get_data(as_text=True)
    assert f"/loans/{mine}/pay" in html
    assert f"/loans/{other_loan}" not in html
    assert client.get(f"/loans/{other_loan}/pay").status_code == 404


def test_dashboard_statements_stay_fixed_with_owed_figures(
    app, client, make_user, make_loan, late_loan
):
    """Late, current and paid loans: still the same few statements as one plain loan (one of
    them reads the borrower's live repayment plans, whatever the number of loans)."""
    borrower, _ = late_loan()
    login(client, borrower)
    one = count_queries(app, client, "/")
    for days in (5, 60, 100):
        make_loan(borrower.id, disbursed_on=_today() - timedelta(days=days), terms=3)
    assert count_queries(app, client, "/") == one == 4
