"""Overdue notices name the late charges when there are some, in the borrower's language."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.auth.models import Channel
from portal.extensions import db
from portal.loans.models import Installment
from portal.messaging.notices.services import send_overdue_notice
from portal.timeutil import local_today, utcnow


@pytest.fixture
def overdue_loan(app, make_user, make_loan, templates_installed):
    """An overdue loan of a borrower speaking ``locale``, with ``late`` minor units of late
    charges on its first installment; returns the loan id."""

    def factory(locale: str, late: int) -> int:
        borrower = make_user(locale=locale)
        today = local_today("Asia/Shanghai", utcnow())
        loan_id = make_loan(borrower.id, disbursed_on=today - timedelta(days=45), terms=3)
        with app.app_context():
            first = db.session.scalars(
                select(Installment).where(Installment.loan_id == loan_id, Installment.sequence == 1)
            ).one()
            first.late_charge_due = late
            db.session.commit()
        return loan_id

    return factory


@pytest.mark.parametrize(
    ("locale", "words"),
    [("zh_CN", "逾期费用（滞纳金、罚息）：¥15.00"), ("en", "Late charges: CN¥15.00")],
)
def test_notice_mentions_late_charges(app, overdue_loan, locale, words):
    """15.00 of late charges: named in the email and counted in the amount overdue."""
    loan_id = overdue_loan(locale, 1_500)
    with app.app_context():
        notice = send_overdue_notice(loan_id, channel=Channel.EMAIL, now=utcnow())
        assert notice is not None
        assert words in notice.body_text
        sms = send_overdue_notice(loan_id, channel=Channel.SMS, now=utcnow())
        assert sms is not None
        assert "15.00" in sms.body_text


@pytest.mark.parametrize(("locale", "words"), [("zh_CN", "逾期费用"), ("en", "Late charges")])
def test_notice_without_late_charges_does_not_mention_them(app, overdue_loan, locale, words):
    """No late charges: the notice says nothing of them."""
    loan_id = overdue_loan(locale, 0)
    with app.app_context():
        notice = send_overdue_notice(loan_id, channel=Channel.EMAIL, now=utcnow())
        assert notice is not None
        assert words not in notice.body_text
