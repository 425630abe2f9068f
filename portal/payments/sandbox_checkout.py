"""The sandbox checkout: Stripe's test cards, answered locally, as Stripe's events.

When no Stripe keys are set, the borrower confirms a payment on a local page marked as a
sandbox. The card number decides the verdict exactly as Stripe's test mode does, and the
verdict travels as a Stripe-shaped event through ``portal.payments.events.process_event`` (the
webhook's own processing), so booking, receipts and everything after it are the real code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l

from portal.domain import DomainError, NotFound
from portal.payments.gateway.sandbox import sandbox_id
from portal.payments.models import LIVE_STATUSES, PaymentAttempt, Provider
from portal.payments.services import attempt_of_borrower, mark_confirming


class NotASandboxAttempt(NotFound):
    """The attempt is Stripe's (or the sandbox is off): the sandbox never confirms it."""


class CardRefused(DomainError):
    """What was typed is not a test card the sandbox knows, or not a valid expiry or CVC."""

    status_code = 422
    message = _l("Use one of the test cards listed on this page, such as 4242 4242 4242 4242.")

    def __init__(self, message=None, *, field: str = "card_number"):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Verdict:
    """Stripe's answer to a test card: success, or a decline with its codes."""

    succeeded: bool
    code: str | None = None
    decline_code: str | None = None
    message: str | None = None  # Stripe's own English; stored, never shown to the borrower


SUCCESS = Verdict(succeeded=True)
# Stripe's test cards (https://docs.stripe.com/testing) and what test mode answers for each.
TEST_CARDS = {
    "4242424242424242": SUCCESS,
    "4000000000000002": Verdict(
        False, "card_declined", "generic_decline", "Your card was declined."
    ),
    "4000000000009995": Verdict(
        False, "card_declined", "insufficient_funds", "Your card has insufficient funds."
    ),
}
_EXPIRY = re.compile(r"(0?[1-9]|1[0-2]) ?/ ?([0-9]{2}|20[0-9]{2})")


def card_verdict(number: str, expiry: str, cvc: str, *, today: date) -> Verdict:
    """The test-mode verdict for a card; CardRefused for an unknown number, expiry or CVC."""
    digits = re.sub(r"[ -]", "", number or "")
    if digits not in TEST_CARDS:
        raise CardRefused()
    match = _EXPIRY.fullmatch((expiry or "").strip())
    if match is None:
        raise CardRefused(_l("Enter the expiry date as MM/YY."), field="expiry")
    month, year = int(match.group(1)), int(match.group(2)[-2:]) + 2000
    if (year, month) < (today.year, today.month):
        raise CardRefused(_l("This card has expired: use a date in the future."), field="expiry")
    if not re.fullmatch(r"[0-9]{3,4}", (cvc or "").strip()):
        raise CardRefused(_l("The security code is 3 or 4 digits."), field="cvc")
    return TEST_CARDS[digits]


def intent_event(attempt: PaymentAttempt, verdict: Verdict, *, now: datetime) -> dict[str, Any]:
    """The verdict as Stripe sends it: ``payment_intent.succeeded`` or ``.payment_failed``."""
    intent: dict[str, Any] = {
        "id": attempt.intent_id,
        "object": "payment_intent",
        "created": int(attempt.created_at.timestamp()),
        "amount": attempt.amount_minor,
        "currency": attempt.currency.lower(),
        "metadata": {
            "attempt_id": str(attempt.id),
            "loan_id": str(attempt.loan_id),
            "borrower_id": str(attempt.borrower_id),
        },
        "payment_method_types": ["card"],
        "latest_charge": sandbox_id("ch"),
        "livemode": False,
    }
    if verdict.succeeded:
        intent |= {"status": "succeeded", "amount_received": attempt.amount_minor}
        kind = "payment_intent.succeeded"
    else:
        intent |= {
            "status": "requires_payment_method",
            "amount_received": 0,
            "last_payment_error": {
                "type": "card_error",
                "code": verdict.code,
                "decline_code": verdict.decline_code,
                "message": verdict.message,
            },
        }
        kind = "payment_intent.payment_failed"
    return {
        "id": sandbox_id("evt"),
        "object": "event",
        "type": kind,
        "created": int(now.timestamp()),
        "livemode": False,
        "data": {"object": intent},
    }


def sandbox_enabled() -> bool:
    """Whether the sandbox may confirm payments: no Stripe keys, and not in production."""
    config = current_app.config
    return not config.get("STRIPE_SECRET_KEY") and config.get("PORTAL_ENV") != "production"


def pay_in_sandbox(
    *,
    borrower_id: int,
    attempt_id: int,
    card_number: str,
    expiry: str,
    cvc: str,
    today: date,
    now: datetime,
) -> PaymentAttempt:
    """Confirm the borrower's own sandbox attempt with a test card; the event is processed.

    Raises AttemptNotFound (not theirs), NotASandboxAttempt (a Stripe attempt, or Stripe keys
    are set: the sandbox never confirms real money), CardRefused (not a test card: nothing
    happens). An attempt already paid or closed is returned unchanged. Flushes; the caller
    commits, the attempt then says how it went (paid, or the decline's code).
    """
    attempt = attempt_of_borrower(borrower_id, attempt_id)
    if attempt.provider is not Provider.SANDBOX or not sandbox_enabled():
        raise NotASandboxAttempt()
    if attempt.status.value not in LIVE_STATUSES or attempt.intent_id is None:
        return attempt  # paid or closed already: the status page says so
    verdict = card_verdict(card_number, expiry, cvc, today=today)
    mark_confirming(borrower_id, attempt_id, now=now)
    from portal.payments.events import process_event  # the webhook's own processing

    process_event(intent_event(attempt, verdict, now=now), provider=Provider.SANDBOX, now=now)
    return attempt
