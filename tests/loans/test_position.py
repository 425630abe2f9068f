from datetime import UTC, date, datetime

import pytest

from portal.extensions import db
from portal.loans.models import Component, Loan, PaymentMethod
from portal.loans.services import loan_position, record_payment
from portal.timeutil import local_today


@pytest.fixture
def loan(app_ctx, make_user, make_loan):
    borrower = make_user()
    loan_id = make_loan(
        borrower.id,
        principal_minor=300_000,
        rate_bps=2400,
        fee_minor=3_000,
        disbursed_on=date(2026, 8, 31),
        terms=3,
    )  # due Sep 30, Oct 31, Nov 30
    return db.session.get(Loan, loan_id)


def test_nothing_is_overdue_on_the_due_date_itself(loan):
    """An installment is due until the end of its local due date: 0 days past due that day."""
    position = loan_position(loan, date(2026, 9, 30))
    assert (position.days_past_due, position.overdue) == (0, 0)
    assert position.next_installment.sequence == 1


def test_days_past_due_count_from_the_oldest_unpaid_installment(loan):
    """Two missed installments: DPD counts from the first, the overdue sums both."""
    position = loan_position(loan, date(2026, 11, 5))
    assert position.days_past_due == 36
    assert position.overdue_by_component == {
        Component.LATE_CHARGE: 0,
        Component.FEE: 3_000,
        Component.INTEREST: 6_000 + 4_000,
        Component.PRINCIPAL: 200_000,
    }
    assert position.next_installment.sequence == 3


def test_partial_payment_leaves_the_installment_overdue(loan):
    """Paying part of the oldest installment reduces the overdue amount, not the DPD."""
    record_payment(
        loan_id=loan.id,
        amount_minor=10_000,
        currency="CNY",
        method=PaymentMethod.CARD,
        received_at=datetime(2026, 10, 2, tzinfo=UTC),
    )
    position = loan_position(loan, date(2026, 10, 10))
    assert position.days_past_due == 10
    assert position.overdue == 3_000 + 6_000 + 100_000 - 10_000


def test_local_today_follows_the_borrower_time_zone():
    """At 16:30 UTC it is already tomorrow in Shanghai but still today in New York."""
    now = datetime(2026, 9, 30, 16, 30, tzinfo=UTC)
    assert local_today("Asia/Shanghai", now) == date(2026, 10, 1)
    assert local_today("America/New_York", now) == date(2026, 9, 30)


def test_due_date_passes_at_local_midnight(loan):
    """The same instant makes the Shanghai borrower 1 day late, not yet one in New York."""
    now = datetime(2026, 9, 30, 16, 30, tzinfo=UTC)
    assert loan_position(loan, local_today("Asia/Shanghai", now)).days_past_due == 1
    assert loan_position(loan, local_today("America/New_York", now)).days_past_due == 0
