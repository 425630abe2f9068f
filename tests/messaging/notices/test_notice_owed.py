"""An overdue notice's page shows what the loan owes today and one Pay button, whatever the
notice said when it was sent."""

from __future__ import annotations

from datetime import timedelta

from portal.auth.models import Channel
from portal.extensions import db
from portal.loans.models import Loan, PaymentMethod
from portal.loans.services import loan_position, record_payment
from portal.messaging.dispatch import dispatch_due
from portal.messaging.notices.services import send_overdue_notice
from portal.timeutil import local_today, utcnow
from tests.conftest import login, page_text


def _notice(app, make_user, make_loan, locale: str):
    borrower = make_user(locale=locale)
    now = utcnow()  # the page computes today from the real clock
    today = local_today("Asia/Shanghai", now)
    with app.app_context():
        loan_id = make_loan(borrower.id, disbursed_on=today - timedelta(days=45), terms=3)
        notice = send_overdue_notice(loan_id, channel=Channel.PORTAL, now=now)
        db.session.commit()
        dispatch_due(lambda: now, channels={Channel.PORTAL})
        return borrower, notice.id, loan_id


def test_notice_page_shows_owed_today_and_one_pay_button(
    app, client, make_user, make_loan, templates_installed
):
    """Overdue split by component, payoff and a single Pay button to the loan's pay page (the
    notice's own text links there too)."""
    borrower, notice_id, loan_id = _notice(app, make_user, make_loan, "en")
    login(client, borrower)
    response = client.get(f"/notices/{notice_id}")
    html = response.get_data(as_text=True)
    text = page_text(response)
    assert "Late charges" in text
    assert "Payoff amount today" in text
    assert html.count('data-testid="pay-button"') == 1
    assert f'data-testid="pay-button"\n         href="/loans/{loan_id}/pay"' in html
    assert "See repayment plans" in text


def test_notice_page_after_paying_says_nothing_is_overdue(
    app, client, make_user, make_loan, templates_installed
):
    """Paid since the notice: the panel says so (in Chinese), the balance can still be paid."""
    borrower, notice_id, loan_id = _notice(app, make_user, make_loan, "zh_CN")
    with app.app_context():
        loan = db.session.get(Loan, loan_id)
        overdue = loan_position(loan, local_today("Asia/Shanghai", utcnow())).overdue
        record_payment(
            loan_id=loan_id,
            amount_minor=overdue,
            currency="CNY",
            method=PaymentMethod.CARD,
            received_at=utcnow(),
        )
        db.session.commit()
    login(client, borrower)
    response = client.get(f"/notices/{notice_id}")
    panel = page_text(response).split("当前情况", 1)[1]  # the loan panel, after the notice
    assert "该笔借款目前没有逾期款项" in panel
    assert "逾期费用" not in panel  # no overdue split when nothing is overdue
    assert "未还余额" in panel
    assert "立即还款" in panel
    assert "原到期日" not in panel
