"""Payments fixtures: a loan in collections, as the daily run leaves it, and a way to pay it
the way the event processor does (``record_payment`` then ``effects.after_booking``)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from portal.collections.run import run_collections
from portal.extensions import db
from portal.loans.models import PaymentMethod
from portal.loans.services import record_payment
from portal.payments import effects

# The standard loan: 300,000 over 6 months from Jan 15, due on the 15th from Feb to Jul.
# Installment 1: principal 50,000 + interest 6,000 + fee 3,000 = 59,000; then 55,000...
DISBURSED = date(2026, 1, 15)
FIRST_DUE = date(2026, 2, 15)
SECOND_DUE = date(2026, 3, 15)
FIRST_INSTALLMENT = 59_000
SECOND_INSTALLMENT = 55_000
LOAN_TOTAL = 300_000 + 3_000 + 6_000 + 5_000 + 4_000 + 3_000 + 2_000 + 1_000


def morning(day: date) -> datetime:
    """10:00 in Shanghai on ``day``: inside every rulebook's contact window."""
    return datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)


def pay(loan_id: int, amount: int, now: datetime, reference: str | None = None):
    """Book a processor payment and its effects in one transaction, as a webhook does."""
    payment = record_payment(
        loan_id=loan_id,
        amount_minor=amount,
        currency="CNY",
        method=PaymentMethod.CARD,
        received_at=now,
        external_reference=reference,
        keep_surplus=True,
    )
    result = effects.after_booking(payment, now=now)
    db.session.commit()
    return result


@pytest.fixture
def loan_in_collections(app, make_user, make_loan):
    """A loan whose first installment is 5 days late on 20 Feb: the run opened its case."""

    def factory(as_of: date = date(2026, 2, 20), locale: str = "en") -> tuple[int, int]:
        borrower = make_user(locale=locale)
        loan_id = make_loan(borrower.id, disbursed_on=DISBURSED)
        with app.app_context():
            run_collections(as_of, now=morning(as_of), contacts=False)
        return borrower.id, loan_id

    return factory
