"""Belt and braces: a worker never sends an overdue notice or a due reminder that stopped
being true between queueing and sending (a payment booked meanwhile): it is cancelled."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from portal.auth.models import Channel
from portal.extensions import db
from portal.loans.models import Installment, Loan, PaymentMethod
from portal.loans.services import loan_position, record_payment
from portal.messaging.dispatch import dispatch_due
from portal.messaging.models import Message, MessageStatus
from portal.messaging.notices.services import send_overdue_notice
from portal.messaging.reminders import generate_reminders, reminded_installment, reminder_key
from tests.messaging.conftest import NOON_SHANGHAI

TODAY = date(2026, 11, 28)


@pytest.fixture
def overdue_loan(app_ctx, make_user, make_loan, templates_installed):
    """A loan whose first installment is 27 days late on the clock's day."""
    borrower = make_user(locale="en")
    return make_loan(borrower.id, disbursed_on=date(2026, 10, 1))


def _pay_overdue(loan_id: int) -> None:
    loan = db.session.get(Loan, loan_id)
    record_payment(
        loan_id=loan_id,
        amount_minor=loan_position(loan, TODAY).overdue,
        currency="CNY",
        method=PaymentMethod.CARD,
        received_at=NOON_SHANGHAI,
    )
    db.session.commit()


def test_worker_cancels_an_overdue_notice_for_a_loan_paid_since(overdue_loan, spies):
    """Queued while overdue, paid before the worker came: cancelled, never sent."""
    notice = send_overdue_notice(overdue_loan, channel=Channel.PORTAL, now=NOON_SHANGHAI)
    db.session.commit()
    _pay_overdue(overdue_loan)
    report = dispatch_due(lambda: NOON_SHANGHAI, adapters=spies)
    assert (report.cancelled, report.sent) == (1, 0)
    assert spies[Channel.PORTAL].sent == []
    db.session.expire_all()
    message = db.session.get(Message, notice.id)
    assert (message.status, message.cancel_reason) == (MessageStatus.CANCELLED, "not_overdue")
    assert message.attempts == 0


def test_worker_still_sends_the_notice_of_a_loan_still_overdue(overdue_loan, spies):
    """The control: nothing paid, the notice goes."""
    notice = send_overdue_notice(overdue_loan, channel=Channel.PORTAL, now=NOON_SHANGHAI)
    db.session.commit()
    report = dispatch_due(lambda: NOON_SHANGHAI, adapters=spies)
    assert (report.cancelled, report.sent) == (0, 1)
    assert spies[Channel.PORTAL].sent == [notice.id]


def test_worker_cancels_the_reminder_of_an_installment_paid_early(
    app_ctx, make_user, make_loan, templates_installed, spies
):
    """A 'due in 3 days' reminder for an installment paid in the meantime is not sent."""
    borrower = make_user(locale="en")
    loan_id = make_loan(borrower.id, disbursed_on=date(2026, 11, 1))  # due 1 Dec
    generate_reminders(NOON_SHANGHAI)
    db.session.commit()
    reminders = db.session.scalars(
        select(Message).where(Message.loan_id == loan_id, Message.status == MessageStatus.QUEUED)
    ).all()
    assert reminders, "the fixture should have queued a reminder"
    first = db.session.scalars(
        select(Installment).where(Installment.loan_id == loan_id).order_by("sequence")
    ).first()
    record_payment(
        loan_id=loan_id,
        amount_minor=first.outstanding,
        currency="CNY",
        method=PaymentMethod.CARD,
        received_at=NOON_SHANGHAI,
    )
    db.session.commit()
    report = dispatch_due(lambda: NOON_SHANGHAI, adapters=spies)
    assert report.sent == 0
    assert report.cancelled == len(reminders)
    db.session.expire_all()
    assert {(m.status, m.cancel_reason) for m in reminders} == {
        (MessageStatus.CANCELLED, "installment_paid")
    }


def test_reminder_keys_name_their_installment():
    """The key the reminders write is the key the cancellation reads."""
    assert reminded_installment(reminder_key(42, 3, Channel.SMS)) == 42
    assert reminded_installment("overdue:42:overdue_stage_1:sms:2026-11-28") is None
    assert reminded_installment(None) is None
