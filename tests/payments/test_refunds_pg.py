"""On PostgreSQL: two admins refunding one payment at once never refund more than it."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select

from portal.auth.models import Role
from portal.extensions import db
from portal.loans.models import Installment
from portal.payments.models import Refund, RefundStatus
from portal.payments.refunds import RefundTooLarge, refund_payment
from tests.payments.conftest import NOW

pytestmark = pytest.mark.postgres


def test_concurrent_refunds_of_one_payment_stay_within_it(
    app, make_user, make_loan, book, processor, reversals
):
    """Two refunds of 150.00 from a 200.00 payment: one succeeds, the other is too large."""
    loan_id = make_loan(make_user().id)
    payment_id = book(loan_id, 20_000)
    admin_id = make_user(Role.ADMIN).id
    original = processor.create_refund

    def slow_refund(**kwargs):
        time.sleep(0.3)  # the processor's round trip, while the loan row is locked
        return original(**kwargs)

    processor.create_refund = slow_refund  # type: ignore[method-assign]
    outcomes: list[str] = []

    def refund() -> None:
        with app.app_context():
            try:
                refund_payment(
                    payment_id=payment_id,
                    amount_minor=15_000,
                    reason="Paid twice",
                    actor_id=admin_id,
                    now=NOW,
                )
                db.session.commit()
                outcomes.append("refunded")
            except RefundTooLarge:
                db.session.rollback()
                outcomes.append("too_large")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=refund) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refunded", "too_large"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Refund)) == 1
        assert db.session.scalar(select(Refund.status)) is RefundStatus.SUCCEEDED
        paid = db.session.scalar(
            select(
                func.sum(
                    Installment.principal_paid + Installment.interest_paid + Installment.fee_paid
                )
            ).where(Installment.loan_id == loan_id)
        )
        assert paid == 5_000
