"""Taking refunded money back out of the ledger, once per refund.

Order (the mirror image of booking, so a refund undoes the most recent effect of the payment
first): the payment's unallocated credit first, then its allocations from the latest
installment to the oldest and, within an installment, the default waterfall backwards
(principal, interest, fees, late charges). A partial refund of a payment that paid an overdue
installment and part of the next one thus takes the next one's principal back first, and the
overdue installment stays paid as long as possible.

A payment's ``PaymentAllocation`` rows stay as booked (the receipt shows what was allocated);
each refund's ``RefundReversal`` rows say what it took back, and the installments' ``_paid``
columns go down by the same amounts.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select

from portal.extensions import db
from portal.loans.allocation import DEFAULT_WATERFALL
from portal.loans.models import Component, Installment, Loan, LoanStatus, Payment
from portal.payments.models import Refund, RefundReversal, RefundStatus

# Refunds that hold (or will hold) part of a payment's money.
COUNTED_STATUSES = (RefundStatus.PENDING, RefundStatus.SUCCEEDED)


def refunded_minor(payment: Payment) -> int:
    """What refunds pending or done take of ``payment``."""
    return sum(
        refund.amount_minor
        for refund in db.session.scalars(
            select(Refund).where(
                Refund.payment_id == payment.id, Refund.status.in_(COUNTED_STATUSES)
            )
        )
    )


def refundable_minor(payment: Payment) -> int:
    """What is left to refund of ``payment``: its amount less refunds pending or done."""
    return payment.amount_minor - refunded_minor(payment)


def remaining_allocations(payment: Payment) -> dict[tuple[int, Component], int]:
    """What each (installment id, component) still holds of the payment after its reversals."""
    remaining: dict[tuple[int, Component], int] = defaultdict(int)
    for allocation in payment.allocations:
        remaining[(allocation.installment_id, allocation.component)] += allocation.amount_minor
    reversals = db.session.scalars(
        select(RefundReversal)
        .join(Refund, Refund.id == RefundReversal.refund_id)
        .where(Refund.payment_id == payment.id, RefundReversal.installment_id.is_not(None))
    )
    for reversal in reversals:
        if reversal.installment_id is None or reversal.component is None:
            continue  # a credit reversal (the query leaves them out; this tells mypy)
        remaining[(reversal.installment_id, reversal.component)] -= reversal.amount_minor
    return {key: amount for key, amount in remaining.items() if amount > 0}


def _reversal_order(payment: Payment, installments: dict[int, Installment]):
    rank = {component: index for index, component in enumerate(DEFAULT_WATERFALL)}
    return sorted(
        remaining_allocations(payment).items(),
        key=lambda item: (
            installments[item[0][0]].due_date,
            installments[item[0][0]].sequence,
            rank[item[0][1]],
        ),
        reverse=True,
    )


def reverse_refund(refund: Refund, *, now: datetime) -> int:
    """Take ``refund``'s amount back out of the ledger, once: returns what was reversed.

    The loan row is locked first (like a payment). Credit, then allocations (module docstring);
    a loan that was paid off and is owed again is active again. Sets ``reversed_at``. A refund
    already reversed changes nothing (returns 0). Flushes only; the caller audits and calls
    ``effects.after_reversal``.
    """
    if refund.reversed_at is not None:
        return 0
    payment = db.session.execute(
        select(Payment).where(Payment.id == refund.payment_id)
    ).scalar_one()
    loan = db.session.execute(
        select(Loan)
        .where(Loan.id == payment.loan_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    installments = {
        installment.id: installment
        for installment in db.session.scalars(
            select(Installment)
            .where(Installment.loan_id == loan.id)
            .execution_options(populate_existing=True)
        )
    }
    left = refund.amount_minor
    credit = min(left, payment.unallocated_minor)
    if credit:
        payment.unallocated_minor -= credit
        refund.reversals.append(RefundReversal(amount_minor=credit))
        left -= credit
    for (installment_id, component), held in _reversal_order(payment, installments):
        if left == 0:
            break
        portion = min(left, held)
        installment = installments[installment_id]
        paid_attr = f"{component.value}_paid"
        setattr(installment, paid_attr, getattr(installment, paid_attr) - portion)
        refund.reversals.append(
            RefundReversal(installment_id=installment_id, component=component, amount_minor=portion)
        )
        left -= portion
    if loan.status is LoanStatus.PAID_OFF and any(
        installment.outstanding > 0 for installment in installments.values()
    ):
        loan.status = LoanStatus.ACTIVE
    refund.reversed_at = now
    db.session.flush()
    return refund.amount_minor - left
