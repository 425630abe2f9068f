"""The payment processor behind one small interface: Stripe, or the local sandbox.

``payment_gateway()`` picks Stripe when ``STRIPE_SECRET_KEY`` is set and the sandbox otherwise
(the embedded default: ``make run`` needs no keys). Everything after the processor's verdict
(events, booking, receipts) is the same code for both.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from flask_babel import lazy_gettext as _l

from portal.domain import DomainError
from portal.payments.models import Provider


class ProcessorUnavailable(DomainError):
    """The processor timed out, could not be reached or answered an error: nothing was taken."""

    status_code = 503
    message = _l(
        "We could not reach the payment service just now. Nothing was charged: "
        "please try again in a few minutes."
    )


class ProcessorRefused(DomainError):
    """The processor understood the request and refused it (asking again will not help).

    ``code`` is the processor's own error code (e.g. Stripe's ``amount_too_small``), for logs."""

    status_code = 422
    message = _l("The payment service refused this request. Nothing was charged.")

    def __init__(self, message=None, *, code: str | None = None, **context):
        super().__init__(message, **context)
        self.code = code


class RefundTooLarge(ProcessorRefused):
    message = _l("The refund is larger than what is left of the payment: nothing was refunded.")


@dataclass(frozen=True)
class Intent:
    """The processor's PaymentIntent, as far as the portal needs it."""

    id: str
    client_secret: str | None
    status: str  # Stripe's: requires_payment_method, processing, succeeded, canceled, ...
    amount_minor: int
    currency: str  # ISO 4217, upper case


@dataclass(frozen=True)
class ProcessorRefund:
    id: str
    status: str  # Stripe's: pending, succeeded, failed, canceled
    amount_minor: int
    currency: str


@dataclass(frozen=True)
class ProcessorPayment:
    """A succeeded payment on the processor's side, for reconciliation."""

    intent_id: str
    amount_minor: int
    currency: str
    created: datetime
    metadata: Mapping[str, str]


class PaymentGateway(Protocol):
    provider: Provider

    def create_intent(
        self,
        *,
        amount_minor: int,
        currency: str,
        idempotency_key: str,
        metadata: Mapping[str, str],
        description: str,
    ) -> Intent: ...

    def retrieve_intent(self, intent_id: str) -> Intent: ...

    def cancel_intent(self, intent_id: str, *, idempotency_key: str) -> Intent: ...

    def create_refund(
        self, *, intent_id: str, amount_minor: int, idempotency_key: str, reason: str
    ) -> ProcessorRefund: ...

    def succeeded_payments(self, since: datetime) -> Iterator[ProcessorPayment]: ...


def payment_gateway() -> PaymentGateway:
    """The processor the configuration names: Stripe with STRIPE_SECRET_KEY, else the sandbox.

    Production without STRIPE_SECRET_KEY raises ProcessorUnavailable (never the sandbox)."""
    from flask import current_app

    config = current_app.config
    if config.get("STRIPE_SECRET_KEY"):
        # Imported here: the sandbox (the embedded default) never loads the stripe library.
        from portal.payments.gateway.stripe import StripeGateway

        return StripeGateway.from_config(config)
    if config.get("PORTAL_ENV") == "production":
        # The sandbox takes no money: in production it would hand out loans' payoffs for free.
        raise ProcessorUnavailable(context="STRIPE_SECRET_KEY is not set in production")
    from portal.payments.gateway.sandbox import SandboxGateway

    return SandboxGateway()
