"""A booked payment's receipt: what it paid, per installment and component, and what is left.

``receipt_for`` builds one ``Receipt`` that the page, the PDF and the email all show, so they
never disagree. Times are shown in the borrower's zone, money in the reader's language; the
processor reference is masked (``portal.pii.mask_reference``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from portal.auth.models import Channel, Role, User
from portal.auth.permissions import STAFF_ROLES
from portal.domain import NotFound
from portal.extensions import db
from portal.loans.allocation import DEFAULT_WATERFALL
from portal.loans.labels import component_label
from portal.loans.models import Component, Installment, Loan, Payment, PaymentAllocation
from portal.messaging.models import Message
from portal.messaging.outbox import enqueue
from portal.messaging.templates import RenderFailed, TemplateMissing
from portal.money import format_money
from portal.payments.models import Refund, RefundStatus
from portal.pii import mask_reference

log = logging.getLogger(__name__)


class ReceiptNotFound(NotFound):
    message = _l("We could not find that receipt.")


@dataclass(frozen=True)
class ReceiptLine:
    sequence: int
    due_date: date
    component: Component
    amount_minor: int


@dataclass(frozen=True)
class Receipt:
    payment: Payment
    loan: Loan
    borrower_name: str
    timezone: str
    lines: tuple[ReceiptLine, ...]
    refunds: tuple[Refund, ...]
    balance_after_minor: int  # the loan's balance right after this payment (today's dues)
    balance_now_minor: int

    @property
    def number(self) -> str:
        return f"R-{self.payment.id:08d}"

    @property
    def currency(self) -> str:
        return self.payment.currency

    @property
    def masked_reference(self) -> str:
        return mask_reference(self.payment.external_reference)

    @property
    def credit_minor(self) -> int:
        return self.payment.unallocated_minor

    @property
    def allocated_minor(self) -> int:
        return sum(line.amount_minor for line in self.lines)

    @property
    def refunded_minor(self) -> int:
        return sum(r.amount_minor for r in self.refunds if r.status is RefundStatus.SUCCEEDED)

    def by_component(self) -> list[tuple[Component, int]]:
        """Totals per component, in waterfall order, leaving out components it did not pay."""
        totals = {component: 0 for component in DEFAULT_WATERFALL}
        for line in self.lines:
            totals[line.component] += line.amount_minor
        return [(component, amount) for component, amount in totals.items() if amount]


def receipt_for(payment_id: int, *, viewer: User) -> Receipt:
    """The receipt of a payment ``viewer`` may see: a borrower their own loans' payments, staff
    any. ReceiptNotFound (404) otherwise, never saying whether the payment exists."""
    payment = db.session.scalar(
        select(Payment)
        .where(Payment.id == payment_id)
        .options(
            selectinload(Payment.allocations).selectinload(PaymentAllocation.installment),
            selectinload(Payment.loan).selectinload(Loan.borrower),
        )
    )
    if payment is None:
        raise ReceiptNotFound()
    is_owner = viewer.role is Role.BORROWER and payment.loan.borrower_id == viewer.id
    if not is_owner and viewer.role not in STAFF_ROLES:
        raise ReceiptNotFound()
    return _receipt(payment)


def _receipt(payment: Payment) -> Receipt:
    rank = {component: index for index, component in enumerate(DEFAULT_WATERFALL)}
    lines = tuple(
        ReceiptLine(a.installment.sequence, a.installment.due_date, a.component, a.amount_minor)
        for a in sorted(
            payment.allocations,
            key=lambda a: (a.installment.due_date, a.installment.sequence, rank[a.component]),
        )
    )
    refunds = tuple(
        db.session.scalars(
            select(Refund).where(Refund.payment_id == payment.id).order_by(Refund.id)
        )
    )
    borrower = payment.loan.borrower.user
    return Receipt(
        payment=payment,
        loan=payment.loan,
        borrower_name=borrower.name,
        timezone=borrower.timezone,
        lines=lines,
        refunds=refunds,
        balance_after_minor=_balance_after(payment),
        balance_now_minor=_loan_total(payment.loan_id, Installment.outstanding),
    )


def _loan_total(loan_id: int, column) -> int:
    return db.session.scalar(select(func.sum(column)).where(Installment.loan_id == loan_id)) or 0


def _balance_after(payment: Payment) -> int:
    """Today's dues less what this payment and the ones before it allocated (as booked)."""
    paid_so_far = db.session.scalar(
        select(func.sum(PaymentAllocation.amount_minor))
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .where(
            Payment.loan_id == payment.loan_id,
            or_(
                Payment.received_at < payment.received_at,
                and_(Payment.received_at == payment.received_at, Payment.id <= payment.id),
            ),
        )
    )
    return _loan_total(payment.loan_id, Installment.total_due) - (paid_so_far or 0)


def receipt_of_payment(payment: Payment) -> Receipt:
    """The receipt of a payment the caller already holds (no viewer: for the email)."""
    return _receipt(payment)


def allocation_summary(receipt: Receipt, locale: str) -> str:
    """One line per installment and component, e.g. "Installment 1 (2026-07-15) · Interest:
    ¥60.00", then the credit; in ``locale``. For the email receipt."""
    with force_locale(locale):
        rows = [
            _(
                "Installment %(number)s (due %(date)s) · %(component)s: %(amount)s",
                number=line.sequence,
                date=format_date(line.due_date, "medium", locale=locale),
                component=component_label(line.component),
                amount=format_money(line.amount_minor, receipt.currency, locale),
            )
            for line in receipt.lines
        ]
        if receipt.credit_minor:
            rows.append(
                _(
                    "Credit kept for your next installment: %(amount)s",
                    amount=format_money(receipt.credit_minor, receipt.currency, locale),
                )
            )
    return "\n".join(rows)


def send_receipt(payment: Payment, *, now: datetime) -> Message | None:
    """Queue the borrower's email receipt for a booked payment, once per payment (dedupe key
    ``receipt:<payment id>``), in the borrower's language and zone, with the allocation.

    Called right after booking, in the booking's transaction. A receipt never stops a
    booking: without an installed ``payment_receipt`` template (or one that cannot be filled)
    it logs and returns None. Flushes only.
    """
    receipt = receipt_of_payment(payment)
    base = current_app.config["PUBLIC_URL"].rstrip("/")

    def variables(locale: str) -> dict[str, str]:
        return {
            "loan_reference": receipt.loan.reference,
            "amount_paid": format_money(payment.amount_minor, payment.currency, locale),
            "paid_at": format_datetime(
                payment.received_at, "medium", tzinfo=ZoneInfo(receipt.timezone), locale=locale
            ),
            "outstanding": format_money(receipt.balance_now_minor, receipt.currency, locale),
            "allocation_summary": allocation_summary(receipt, locale),
            "receipt_url": f"{base}/payments/receipts/{payment.id}",
        }

    try:
        return enqueue(
            borrower_id=receipt.loan.borrower_id,
            purpose_code="payment_receipt",
            channel=Channel.EMAIL,
            variables=variables,
            now=now,
            loan_id=receipt.loan.id,
            dedupe_key=f"receipt:{payment.id}",
        )
    except (TemplateMissing, RenderFailed) as error:
        log.warning("payment %s: no receipt sent (payment_receipt template): %s", payment.id, error)
        return None
