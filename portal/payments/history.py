"""A loan's payments as staff see them: allocation, refunds, disputes, credit, what is left.

For the case page's payment history and the refund page; a fixed number of queries whatever
the number of payments.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.loans.allocation import DEFAULT_WATERFALL
from portal.loans.models import Component, Payment
from portal.payments.models import Dispute, Refund
from portal.payments.refunds import PaymentNotFound
from portal.payments.reversal import COUNTED_STATUSES


@dataclass(frozen=True)
class PaymentRow:
    payment: Payment
    refunds: list[Refund] = field(default_factory=list)
    disputes: list[Dispute] = field(default_factory=list)

    @property
    def refundable_minor(self) -> int:
        held = sum(r.amount_minor for r in self.refunds if r.status in COUNTED_STATUSES)
        return self.payment.amount_minor - held

    def by_component(self) -> list[tuple[Component, int]]:
        """What the payment paid per component (as booked), in waterfall order."""
        totals = {component: 0 for component in DEFAULT_WATERFALL}
        for allocation in self.payment.allocations:
            totals[allocation.component] += allocation.amount_minor
        return [(component, amount) for component, amount in totals.items() if amount]


def _rows(payments: list[Payment]) -> list[PaymentRow]:
    ids = [payment.id for payment in payments]
    refunds: dict[int, list[Refund]] = defaultdict(list)
    disputes: dict[int, list[Dispute]] = defaultdict(list)
    if ids:
        for refund in db.session.scalars(
            select(Refund).where(Refund.payment_id.in_(ids)).order_by(Refund.id)
        ):
            refunds[refund.payment_id].append(refund)
        for dispute in db.session.scalars(
            select(Dispute).where(Dispute.payment_id.in_(ids)).order_by(Dispute.id)
        ):
            if dispute.payment_id is not None:
                disputes[dispute.payment_id].append(dispute)
    return [PaymentRow(p, refunds[p.id], disputes[p.id]) for p in payments]


def loan_payments(loan_id: int) -> list[PaymentRow]:
    """The loan's payments, newest first, each with its refunds and disputes (3 queries)."""
    payments = db.session.scalars(
        select(Payment)
        .where(Payment.loan_id == loan_id)
        .options(selectinload(Payment.allocations))
        .order_by(Payment.received_at.desc(), Payment.id.desc())
    ).all()
    return _rows(list(payments))


def payment_row(payment_id: int) -> PaymentRow:
    """One payment with its refunds and disputes; PaymentNotFound (404) if there is none."""
    payment = db.session.scalar(
        select(Payment)
        .where(Payment.id == payment_id)
        .options(selectinload(Payment.allocations), selectinload(Payment.loan))
    )
    if payment is None:
        raise PaymentNotFound()
    return _rows([payment])[0]
