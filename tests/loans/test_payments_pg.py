"""Concurrent payments to one loan on PostgreSQL: the loan row lock serialises allocation."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.loans.models import Installment, Payment, PaymentAllocation, PaymentMethod
from portal.loans.services import PaymentExceedsBalance, record_payment

pytestmark = pytest.mark.postgres
AT = datetime(2026, 11, 1, tzinfo=UTC)


def _pay(app, loan_id, amount, hold_seconds=0.0, reference=None):
    with app.app_context():
        try:
            record_payment(
                loan_id=loan_id,
                amount_minor=amount,
                currency="CNY",
                method=PaymentMethod.CARD,
                received_at=AT,
                external_reference=reference,
            )
            time.sleep(hold_seconds)  # keep the transaction (and its lock) open
            db.session.commit()
            return "booked", time.monotonic()
        except PaymentExceedsBalance:
            db.session.rollback()
            return "refused", time.monotonic()


def _totals(app, loan_id):
    with app.app_context():
        paid = db.session.scalar(
            select(
                func.sum(
                    Installment.principal_paid + Installment.interest_paid + Installment.fee_paid
                )
            ).where(Installment.loan_id == loan_id)
        )
        allocated = db.session.scalar(
            select(func.coalesce(func.sum(PaymentAllocation.amount_minor), 0))
            .join(Payment)
            .where(Payment.loan_id == loan_id)
        )
        received = db.session.scalar(
            select(func.coalesce(func.sum(Payment.amount_minor), 0)).where(
                Payment.loan_id == loan_id
            )
        )
        return paid, allocated, received


def test_second_payment_waits_for_the_first_and_sees_its_allocation(app, make_user, make_loan):
    """Two payments that together exceed the balance: one books, the other is refused."""
    loan_id = make_loan(
        make_user().id,
        principal_minor=100_000,
        rate_bps=0,
        fee_minor=0,
        disbursed_on=date(2026, 6, 1),
        terms=2,
    )
    first_has_lock = threading.Event()

    def first():
        result = _pay(app, loan_id, 60_000, hold_seconds=0.5)
        return result

    def second():
        first_has_lock.wait()
        time.sleep(0.1)
        return _pay(app, loan_id, 60_000)

    with ThreadPoolExecutor(2) as pool:
        a = pool.submit(first)
        first_has_lock.set()
        b = pool.submit(second)
        (status_a, done_a), (status_b, done_b) = a.result(), b.result()
    assert (status_a, status_b) == ("booked", "refused")
    assert done_b >= done_a  # the second waited for the first to commit
    assert _totals(app, loan_id) == (60_000, 60_000, 60_000)


def test_many_concurrent_payments_lose_no_update(app, make_user, make_loan):
    """Sixteen payments at once: every yuan received is allocated and shows as paid."""
    loan_id = make_loan(make_user().id, principal_minor=1_000_000, terms=6)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda n: _pay(app, loan_id, 1_000 + n)[0], range(16)))
    assert results == ["booked"] * 16
    expected = sum(1_000 + n for n in range(16))
    assert _totals(app, loan_id) == (expected, expected, expected)


def test_same_processor_payment_racing_books_once(app, make_user, make_loan):
    """The same payment delivered twice at once (a retried webhook) books once."""
    loan_id = make_loan(make_user().id)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: _pay(app, loan_id, 5_000, reference="pi_same"), range(4)))
    assert _totals(app, loan_id) == (5_000, 5_000, 5_000)
