"""Refunds: an admin's, through the processor, and those made at the processor (its dashboard).

Either way a refund is recorded once (``Refund``, by idempotency key and by the processor's
refund id) and its money leaves the ledger once (``reversal.reverse_refund``), after which the
case catches up (``effects.after_reversal``: reopened when the loan is overdue again). An
overpayment's credit (``payment.unallocated_minor``) is refunded the same way: the reversal takes
credit first.

Both paths lock the loan row first and hold it through the processor call: a ``charge.refunded``
event for an admin's refund that is still being made waits, then finds the refund by its
processor id and leaves it alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.audit.services import record as audit
from portal.domain import DomainError, NotFound
from portal.extensions import db
from portal.loans.models import Loan, Payment
from portal.money import Money
from portal.payments import effects
from portal.payments import gateway as gateways
from portal.payments.gateway import PaymentGateway, ProcessorUnavailable
from portal.payments.gateway.stripe_amounts import AmountNotRepresentable, from_stripe
from portal.payments.models import IssueKind, PaymentIssue, Refund, RefundStatus
from portal.payments.reversal import refundable_minor, refunded_minor, reverse_refund

MAX_REASON = 500


class PaymentNotFound(NotFound):
    message = _l("We could not find that payment.")


class RefundRefused(DomainError):
    status_code = 422


class RefundTooLarge(RefundRefused):
    """More than is left of the payment (its amount less refunds pending or done)."""


class RefundDeclined(DomainError):
    status_code = 502
    message = _l("The payment service declined the refund. Nothing was refunded.")


def _gateway() -> PaymentGateway:
    # Looked up on the module at call time: tests (and the merge) swap the factory there.
    return gateways.payment_gateway()


def _valid_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise RefundRefused(_l("Give a reason for the refund."))
    if len(reason) > MAX_REASON:
        raise RefundRefused(_l("A reason has at most 500 characters."))
    return reason


def _locked_payment(payment_id: int) -> Payment:
    """The payment, its loan row locked first (as a booking does): refunds of one payment, and
    a refund and a booking on one loan, happen one after the other."""
    loan_id = db.session.scalar(select(Payment.loan_id).where(Payment.id == payment_id))
    if loan_id is None:
        raise PaymentNotFound()
    db.session.execute(select(Loan.id).where(Loan.id == loan_id).with_for_update()).one()
    return db.session.execute(
        select(Payment).where(Payment.id == payment_id).execution_options(populate_existing=True)
    ).scalar_one()


def _check_amount(payment: Payment, amount_minor: int) -> None:
    if amount_minor <= 0:
        raise RefundRefused(_l("A refund is more than zero."))
    left = refundable_minor(payment)
    if amount_minor > left:
        raise RefundTooLarge(
            _l(
                "A refund can be at most what is left of the payment: %(amount)s %(currency)s.",
                amount=Money(left, payment.currency).decimal,
                currency=payment.currency,
            )
        )


def refund_payment(
    *,
    payment_id: int,
    amount_minor: int,
    reason: str,
    actor_id: int | None,
    now: datetime,
    ip_address: str | None = None,
) -> Refund:
    """Refund ``amount_minor`` of a processor payment (an admin's decision, with a reason).

    The refund row (with its idempotency key) is flushed before the processor is called, so a
    retry reuses the key. Success: the allocation is reversed (``reversal``), the refund is
    audited (``payment.refunded``) and the case catches up (``effects.after_reversal``). A
    refund the processor reports pending is reversed when it succeeds (``on_charge_refunded``).

    Raises PaymentNotFound, RefundRefused (no processor reference, no reason, amount not above
    zero), RefundTooLarge. When the processor fails (ProcessorUnavailable, RefundDeclined or its
    own refusal) the refund row is left ``failed``, nothing is reversed, an alert is kept for
    an unreachable processor and the error is raised: the caller commits that record before
    showing the error. Flushes only.
    """
    reason = _valid_reason(reason)
    payment = _locked_payment(payment_id)
    if payment.external_reference is None:
        raise RefundRefused(
            _l("This payment was not taken through the payment service: refund it by hand.")
        )
    _check_amount(payment, amount_minor)
    refund = Refund(
        payment_id=payment.id,
        amount_minor=amount_minor,
        currency=payment.currency,
        reason=reason,
        idempotency_key=uuid.uuid4().hex,
        status=RefundStatus.PENDING,
        requested_by=actor_id,
        created_at=now,
    )
    db.session.add(refund)
    db.session.flush()
    try:
        result = _gateway().create_refund(
            intent_id=payment.external_reference,
            amount_minor=amount_minor,
            idempotency_key=refund.idempotency_key,
            reason=reason,
        )
    except DomainError as error:
        _fail(refund, error, actor_id=actor_id, now=now, ip_address=ip_address)
        raise
    refund.processor_refund_id = result.id
    if result.status in (RefundStatus.FAILED.value, RefundStatus.CANCELED.value):
        declined = RefundDeclined()
        _fail(refund, declined, actor_id=actor_id, now=now, ip_address=ip_address)
        raise declined
    if result.status == RefundStatus.SUCCEEDED.value:
        _complete(refund, actor_id=actor_id, now=now, ip_address=ip_address)
    db.session.flush()
    return refund


def _fail(
    refund: Refund, error: DomainError, *, actor_id: int | None, now: datetime, ip_address
) -> None:
    refund.status = RefundStatus.FAILED
    if isinstance(error, ProcessorUnavailable):
        db.session.add(
            PaymentIssue(
                kind=IssueKind.PROCESSOR_UNREACHABLE,
                detail=f"refund {refund.id} of payment {refund.payment_id}",
                created_at=now,
            )
        )
    db.session.flush()
    audit(
        "payment.refund_failed",
        now=now,
        actor_id=actor_id,
        object_type="payment",
        object_id=refund.payment_id,
        details={
            "refund": refund.id,
            "amount_minor": refund.amount_minor,
            "error": type(error).__name__,
        },
        ip_address=ip_address,
    )


def _complete(
    refund: Refund, *, actor_id: int | None, now: datetime, ip_address: str | None = None
) -> None:
    """A refund the processor confirmed: reversed once, audited, the case catches up."""
    refund.status = RefundStatus.SUCCEEDED
    reversed_minor = reverse_refund(refund, now=now)
    payment = refund.payment
    audit(
        "payment.refunded",
        now=now,
        actor_id=actor_id,
        object_type="payment",
        object_id=refund.payment_id,
        details={
            "refund": refund.id,
            "loan_id": payment.loan_id,
            "amount_minor": refund.amount_minor,
            "currency": refund.currency,
            "reversed_minor": reversed_minor,
            "processor_refund_id": refund.processor_refund_id,
            "reason": refund.reason,
        },
        ip_address=ip_address,
    )
    effects.after_reversal(payment.loan_id, now=now)


def on_charge_refunded(charge: Mapping, now: datetime) -> str:
    """The ``charge.refunded`` handler: refunds made at the processor, recorded and reversed once.

    ``charge`` is a Stripe Charge (``payment_intent``, ``amount_refunded``, ``refunds.data``).
    Each succeeded refund in ``refunds.data`` is matched by its id: one recorded already (the
    admin's own, or this event delivered before) is only completed if it was pending; an
    unknown one is recorded (no actor, no reason: made at the processor) and reversed; a pending
    one the processor reports failed or canceled stops holding the money. A charge that
    lists no refunds (newer API versions) records what ``amount_refunded`` says beyond the
    refunds already known, once. Returns ``refund_recorded`` (something changed),
    ``refund_already_recorded`` or ``unknown_payment``. Flushes only.
    """
    payment_id = db.session.scalar(
        select(Payment.id).where(Payment.external_reference == charge.get("payment_intent"))
    )
    if payment_id is None:
        return "unknown_payment"
    payment = _locked_payment(payment_id)
    currency = str(charge.get("currency") or payment.currency)
    listed = (charge.get("refunds") or {}).get("data") or []
    recorded = 0
    for item in listed:
        if item.get("status") == RefundStatus.SUCCEEDED.value:
            amount = _minor(item.get("amount"), currency)
            recorded += _record_processor_refund(payment, {**item, "amount": amount}, now=now)
        elif item.get("status") in (RefundStatus.FAILED.value, RefundStatus.CANCELED.value):
            recorded += _fail_pending_refund(item)
    if not listed:
        missing = _minor(charge.get("amount_refunded"), currency) - refunded_minor(payment)
        if missing > 0:
            key = f"charge:{charge.get('id')}:{charge.get('amount_refunded')}"
            recorded += _record_processor_refund(
                payment, {"amount": missing, "idempotency_key": key}, now=now
            )
    return "refund_recorded" if recorded else "refund_already_recorded"


def _minor(amount: object, currency: str) -> int:
    """Stripe's amount in our minor units (they differ for a few currencies); 0 if it is not a
    whole amount of ours (nothing is reversed for it)."""
    if not isinstance(amount, int) or amount <= 0:
        return 0
    try:
        return from_stripe(amount, currency)[0]
    except AmountNotRepresentable:
        return 0


def _fail_pending_refund(item: Mapping) -> int:
    """A refund we recorded as pending that the processor gave up on: it no longer holds any of
    the payment (nothing was reversed for it). 1 if changed now, 0 otherwise."""
    refund = db.session.scalar(select(Refund).where(Refund.processor_refund_id == item.get("id")))
    if refund is None or refund.status is not RefundStatus.PENDING:
        return 0
    refund.status = RefundStatus(item["status"])
    db.session.flush()
    return 1


def _record_processor_refund(payment: Payment, item: Mapping, *, now: datetime) -> int:
    """One processor refund: 1 if it was recorded or completed now, 0 if already done."""
    processor_id = item.get("id")
    refund = None
    if processor_id:
        refund = db.session.scalar(select(Refund).where(Refund.processor_refund_id == processor_id))
    if refund is None and item.get("idempotency_key"):
        refund = db.session.scalar(
            select(Refund).where(Refund.idempotency_key == item["idempotency_key"])
        )
    if refund is not None:
        if refund.reversed_at is not None:
            return 0
        _complete(refund, actor_id=None, now=now)
        return 1
    # Never more than is left of the payment: the ledger cannot give back money it never had.
    amount = min(int(item.get("amount") or 0), refundable_minor(payment))
    if amount <= 0:
        return 0
    refund = Refund(
        payment_id=payment.id,
        amount_minor=amount,
        currency=payment.currency,
        reason="",  # made at the processor: pages say so instead of showing its reason code
        idempotency_key=(item.get("idempotency_key") or f"processor:{processor_id}")[:64],
        processor_refund_id=processor_id,
        status=RefundStatus.SUCCEEDED,
        requested_by=None,
        created_at=now,
    )
    db.session.add(refund)
    db.session.flush()
    _complete(refund, actor_id=None, now=now)
    return 1
