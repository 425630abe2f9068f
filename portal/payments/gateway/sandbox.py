"""The sandbox processor: the embedded default when no Stripe keys are set (``make run``).

It answers the gateway's calls locally and keeps no state of its own: an intent is the payment
attempt that holds its id, and the payments it took are the sandbox's own
``payment_intent.succeeded`` events in ``ProcessorEvent`` (written by the sandbox checkout
through the same event processing as Stripe's webhooks).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator, Mapping
from datetime import datetime

from sqlalchemy import select

from portal.extensions import db
from portal.payments.gateway import Intent, ProcessorPayment, ProcessorRefund
from portal.payments.models import AttemptStatus, PaymentAttempt, ProcessorEvent, Provider

# Stripe's intent status for each attempt status (what retrieve_intent reports).
_INTENT_STATUS = {
    AttemptStatus.OPEN: "requires_payment_method",
    AttemptStatus.PROCESSING: "processing",
    AttemptStatus.SUCCEEDED: "succeeded",
    AttemptStatus.CANCELED: "canceled",
    AttemptStatus.NEEDS_REVIEW: "succeeded",
}


def sandbox_id(prefix: str) -> str:
    """An id shaped like the processor's: ``pi_sandbox_...``, ``evt_sandbox_...``."""
    return f"{prefix}_sandbox_{secrets.token_hex(12)}"


class SandboxGateway:
    """The :class:`~portal.payments.gateway.PaymentGateway` with no processor behind it."""

    provider = Provider.SANDBOX

    def create_intent(
        self,
        *,
        amount_minor: int,
        currency: str,
        idempotency_key: str,
        metadata: Mapping[str, str],
        description: str,
    ) -> Intent:
        """A new intent, or the one already made with this idempotency key (as Stripe does)."""
        made = db.session.scalar(
            select(PaymentAttempt).where(
                PaymentAttempt.idempotency_key == idempotency_key,
                PaymentAttempt.intent_id.is_not(None),
            )
        )
        if made is not None:
            return _intent_of(made)
        intent_id = sandbox_id("pi")
        return Intent(
            id=intent_id,
            client_secret=f"{intent_id}_secret_{secrets.token_hex(12)}",
            status="requires_payment_method",
            amount_minor=amount_minor,
            currency=currency.upper(),
        )

    def retrieve_intent(self, intent_id: str) -> Intent:
        return _intent_of(_attempt_of_intent(intent_id))

    def cancel_intent(self, intent_id: str, *, idempotency_key: str) -> Intent:
        attempt = _attempt_of_intent(intent_id)
        return Intent(
            id=intent_id,
            client_secret=attempt.client_secret,
            status="canceled",
            amount_minor=attempt.amount_minor,
            currency=attempt.currency,
        )

    def create_refund(
        self, *, intent_id: str, amount_minor: int, idempotency_key: str, reason: str
    ) -> ProcessorRefund:
        """A refund that succeeds at once (the sandbox has no bank to wait for)."""
        attempt = _attempt_of_intent(intent_id)
        return ProcessorRefund(
            id=sandbox_id("re"),
            status="succeeded",
            amount_minor=amount_minor,
            currency=attempt.currency,
        )

    def succeeded_payments(self, since: datetime) -> Iterator[ProcessorPayment]:
        """The sandbox's succeeded payments since ``since``, from its stored events."""
        events = db.session.scalars(
            select(ProcessorEvent)
            .where(
                ProcessorEvent.provider == Provider.SANDBOX,
                ProcessorEvent.type == "payment_intent.succeeded",
                ProcessorEvent.created >= since,
            )
            .order_by(ProcessorEvent.created, ProcessorEvent.id)
        )
        for event in events:
            intent = json.loads(event.payload)["data"]["object"]
            yield ProcessorPayment(
                intent_id=intent["id"],
                amount_minor=int(intent["amount_received"]),
                currency=str(intent["currency"]).upper(),
                created=event.created,
                metadata={str(k): str(v) for k, v in (intent.get("metadata") or {}).items()},
            )


def _attempt_of_intent(intent_id: str) -> PaymentAttempt:
    attempt = db.session.scalar(select(PaymentAttempt).where(PaymentAttempt.intent_id == intent_id))
    if attempt is None:
        raise LookupError(f"no sandbox intent {intent_id!r}")
    return attempt


def _intent_of(attempt: PaymentAttempt) -> Intent:
    assert attempt.intent_id is not None  # noqa: S101 - callers look up attempts with an intent
    return Intent(
        id=attempt.intent_id,
        client_secret=attempt.client_secret,
        status=_INTENT_STATUS[attempt.status],
        amount_minor=attempt.amount_minor,
        currency=attempt.currency,
    )
