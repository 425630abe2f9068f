"""PaymentIntent events: the only way a borrower's payment reaches the ledger.

``payment_intent.succeeded`` books the payment, once, when the processor's amount and currency
are exactly the attempt's; anything else is flagged for staff and never booked. Declines and
cancellations only change the attempt, and never undo a success that arrived before them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy import select

from portal.domain import DomainError
from portal.extensions import db
from portal.loans.models import PaymentMethod
from portal.loans.services import record_payment
from portal.money import InvalidAmount
from portal.payments import effects
from portal.payments.gateway.stripe_amounts import from_stripe
from portal.payments.models import (
    AttemptStatus,
    IssueKind,
    PaymentAttempt,
    PaymentIssue,
    PayOption,
)
from portal.payments.payoff import apply_payoff_rebate
from portal.plans.activation import after_down_payment, before_down_payment

BOOKED = "booked"
ALREADY_BOOKED = "already_booked"
FLAGGED = "flagged"
DECLINED = "declined"
CANCELED = "canceled"
PROCESSING = "processing"
STALE = "stale"  # the attempt is already past what this event says

# Stripe's payment method types that are ours too (the same codes).
_METHODS = {
    m.value: m for m in (PaymentMethod.CARD, PaymentMethod.ALIPAY, PaymentMethod.WECHAT_PAY)
}


def _attempt_of(intent: Mapping) -> PaymentAttempt | None:
    """The attempt this intent belongs to, row-locked: events about one intent queue up."""
    intent_id = intent.get("id")
    if not isinstance(intent_id, str):
        return None
    return db.session.scalar(
        select(PaymentAttempt)
        .where(PaymentAttempt.intent_id == intent_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _flag(kind: IssueKind, detail: str, attempt: PaymentAttempt | None, now: datetime) -> str:
    db.session.add(
        PaymentIssue(
            kind=kind,
            attempt_id=attempt.id if attempt else None,
            detail=detail[:1000],
            created_at=now,
        )
    )
    return FLAGGED


def payment_method_of(intent: Mapping) -> PaymentMethod:
    """How the borrower paid: the charge's method when the event carries it, else the only
    method the intent allowed, else card."""
    charge = intent.get("latest_charge")
    if isinstance(charge, Mapping):
        details = charge.get("payment_method_details") or {}
        if details.get("type") in _METHODS:
            return _METHODS[details["type"]]
    types = intent.get("payment_method_types") or []
    if len(types) == 1 and types[0] in _METHODS:
        return _METHODS[types[0]]
    return PaymentMethod.CARD


def _taken(intent: Mapping) -> tuple[int | None, str]:
    """What the processor took, in our minor units (Stripe counts some currencies otherwise)."""
    amount = intent.get("amount_received", intent.get("amount"))
    currency = str(intent.get("currency", ""))[:10]
    if not isinstance(amount, int) or isinstance(amount, bool):
        return None, currency.upper()
    try:
        return from_stripe(amount, currency)
    except (ValueError, InvalidAmount):  # a fraction of our unit, or no currency: never booked
        return None, currency.upper()


def on_succeeded(intent: Mapping, now: datetime) -> str:
    attempt = _attempt_of(intent)
    if attempt is None:
        return _flag(
            IssueKind.UNKNOWN_INTENT,
            f"PaymentIntent {intent.get('id')!s:.255} succeeded but no payment attempt has it.",
            None,
            now,
        )
    if attempt.status is AttemptStatus.SUCCEEDED:
        return ALREADY_BOOKED
    amount, currency = _taken(intent)
    if amount != attempt.amount_minor or currency != attempt.currency:
        attempt.status = AttemptStatus.NEEDS_REVIEW
        return _flag(
            IssueKind.AMOUNT_MISMATCH,
            f"PaymentIntent {attempt.intent_id} took {amount!s:.30} {currency:.10}; "
            f"the attempt was for {attempt.amount_minor} {attempt.currency}.",
            attempt,
            now,
        )
    created = intent.get("created")
    received_at = (
        datetime.fromtimestamp(created, UTC) if isinstance(created, int) and created > 0 else now
    )
    try:
        plan = None
        if attempt.option is PayOption.PLAN_DOWN_PAYMENT:  # its plan's waiver comes first
            plan = before_down_payment(attempt.id, now=now)
        apply_payoff_rebate(attempt, now=now)  # a payoff drops the interest not yet earned
        payment = record_payment(
            loan_id=attempt.loan_id,
            amount_minor=attempt.amount_minor,
            currency=attempt.currency,
            method=payment_method_of(intent),
            received_at=min(received_at, now),
            external_reference=attempt.intent_id,
            keep_surplus=True,  # the money is taken: book it, whatever the balance is now
        )
    except DomainError as refused:
        attempt.status = AttemptStatus.NEEDS_REVIEW
        return _flag(
            IssueKind.BOOKING_FAILED,
            f"PaymentIntent {attempt.intent_id} succeeded but the ledger refused it: {refused}",
            attempt,
            now,
        )
    attempt.status = AttemptStatus.SUCCEEDED
    attempt.payment_id = payment.id
    attempt.failure_code = attempt.failure_message = None
    if plan is not None:
        after_down_payment(plan, now=now)  # the rest of the balance moves into the plan
    effects.after_booking(payment, now=now)
    return BOOKED  # the email receipt follows (payments.receipts.pending)


def on_processing(intent: Mapping, now: datetime) -> str:
    attempt = _attempt_of(intent)
    if attempt is None or attempt.status is not AttemptStatus.OPEN:
        return STALE
    attempt.status = AttemptStatus.PROCESSING
    return PROCESSING


def on_payment_failed(intent: Mapping, now: datetime) -> str:
    """A decline: the attempt is open again (the borrower may retry the same intent)."""
    attempt = _attempt_of(intent)
    if attempt is None or attempt.status not in (AttemptStatus.OPEN, AttemptStatus.PROCESSING):
        return STALE
    error = intent.get("last_payment_error") or {}
    attempt.status = AttemptStatus.OPEN
    attempt.failure_code = str(error.get("decline_code") or error.get("code") or "declined")[:100]
    attempt.failure_message = str(error.get("message") or "")[:500] or None
    return DECLINED


def on_canceled(intent: Mapping, now: datetime) -> str:
    attempt = _attempt_of(intent)
    if attempt is None or attempt.status not in (AttemptStatus.OPEN, AttemptStatus.PROCESSING):
        return STALE
    attempt.status = AttemptStatus.CANCELED
    return CANCELED
