"""Refund reversal as a property: whatever the payment and the refunds, money leaves once."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from portal.auth.models import Role
from portal.extensions import db
from portal.loans.models import Installment, Payment
from portal.payments.models import RefundReversal
from portal.payments.refunds import RefundTooLarge, refund_payment
from portal.payments.reversal import refundable_minor
from tests.payments.conftest import NOW

SCHEDULE_TOTAL = 324_000  # 3,000.00 principal, 210.00 interest, 30.00 fee


def _installments(loan_id):
    return db.session.scalars(
        select(Installment)
        .where(Installment.loan_id == loan_id)
        .execution_options(populate_existing=True)
    ).all()


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    paid=st.integers(min_value=1, max_value=SCHEDULE_TOTAL + 20_000),
    refunds=st.lists(st.integers(min_value=1, max_value=SCHEDULE_TOTAL + 25_000), max_size=4),
)
def test_refunds_reverse_exactly_their_amount_and_never_more_than_paid(
    app_ctx, make_user, make_loan, book, processor, reversals, paid, refunds
):
    """Each refund's reversals add up to it; no component goes below zero; the ledger loses
    exactly what was refunded; a refund beyond what is left is refused and changes nothing."""
    loan_id = make_loan(make_user().id)
    payment_id = book(loan_id, paid)
    admin_id = make_user(Role.ADMIN).id
    refunded = 0
    for amount in refunds:
        payment = db.session.get(Payment, payment_id)
        before = sum(i.total_paid for i in _installments(loan_id)) + payment.unallocated_minor
        try:
            refund = refund_payment(
                payment_id=payment_id, amount_minor=amount, reason="p", actor_id=admin_id, now=NOW
            )
        except RefundTooLarge:
            db.session.rollback()
            assert amount > paid - refunded
            continue
        db.session.commit()
        refunded += amount
        parts = db.session.scalars(
            select(RefundReversal.amount_minor).where(RefundReversal.refund_id == refund.id)
        ).all()
        assert sum(parts) == amount
        installments = _installments(loan_id)
        for i in installments:
            assert min(i.principal_paid, i.interest_paid, i.fee_paid, i.late_charge_paid) >= 0
        payment = db.session.get(Payment, payment_id)
        after = sum(i.total_paid for i in installments) + payment.unallocated_minor
        assert before - after == amount
        assert refundable_minor(payment) == paid - refunded
