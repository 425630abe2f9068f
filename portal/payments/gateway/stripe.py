"""Stripe through the official ``stripe`` library: PaymentIntents, refunds, the list of payments.

Every call has a connect and a read timeout and a bounded number of network retries (each retry
resends the same idempotency key, so Stripe performs a create once). Whatever Stripe answers
other than success becomes :class:`ProcessorUnavailable` (try again later: timeouts, connection
errors, 429, 5xx, a wrong key) or :class:`ProcessorRefused` (the request itself was refused,
e.g. a refund larger than the charge), logged with Stripe's request id and never with a key or
a client secret.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import stripe
from flask import current_app

from portal.payments.gateway import (
    Intent,
    ProcessorPayment,
    ProcessorRefund,
    ProcessorRefused,
    ProcessorUnavailable,
    RefundTooLarge,
)
from portal.payments.gateway.stripe_amounts import AmountNotRepresentable, from_stripe, to_stripe
from portal.payments.models import Provider

log = logging.getLogger(__name__)

T = TypeVar("T")

# Stripe's own refund reasons; any other text the admin wrote travels in the metadata only.
STRIPE_REFUND_REASONS = frozenset({"duplicate", "fraudulent", "requested_by_customer"})
METADATA_VALUE_MAX = 500  # Stripe's limit on one metadata value
# Refused requests that asking again cannot fix: they are the caller's to explain.
_REFUND_TOO_LARGE_CODES = frozenset({"amount_too_large", "charge_already_refunded"})
_SECRETS = re.compile(r"\b(?:sk|rk|pk)_(?:test|live)_\w+|\bwhsec_\w+|\b\w+_secret_\w+")


class StripeGateway:
    """The :class:`~portal.payments.gateway.PaymentGateway` for Stripe."""

    provider = Provider.STRIPE

    def __init__(
        self,
        secret_key: str,
        *,
        api_base: str = "",
        connect_timeout: float = 5,
        read_timeout: float = 15,
        max_network_retries: int = 1,
    ) -> None:
        if not secret_key:
            raise ValueError("StripeGateway needs STRIPE_SECRET_KEY")
        options: dict[str, Any] = {}
        if api_base:
            options["base_addresses"] = {"api": api_base.rstrip("/")}
        self._client = stripe.StripeClient(
            secret_key,
            max_network_retries=max_network_retries,
            http_client=stripe.RequestsClient(timeout=(connect_timeout, read_timeout)),
            **options,
        )

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None = None) -> StripeGateway:
        """The gateway the app's configuration describes (``current_app.config`` by default)."""
        config = current_app.config if config is None else config
        return cls(
            config["STRIPE_SECRET_KEY"],
            api_base=config.get("STRIPE_API_BASE", ""),
            connect_timeout=config.get("STRIPE_CONNECT_TIMEOUT_SECONDS", 5),
            read_timeout=config.get("STRIPE_TIMEOUT_SECONDS", 15),
            max_network_retries=config.get("STRIPE_MAX_NETWORK_RETRIES", 1),
        )

    def create_intent(
        self,
        *,
        amount_minor: int,
        currency: str,
        idempotency_key: str,
        metadata: Mapping[str, str],
        description: str,
    ) -> Intent:
        """A PaymentIntent for the amount, offering the account's payment methods (card,
        Alipay, WeChat Pay...). The same idempotency key returns the same intent."""
        try:
            amount, stripe_currency = to_stripe(amount_minor, currency)
        except AmountNotRepresentable as error:
            raise ProcessorRefused(code="amount_not_representable") from error
        params: Any = {  # stripe's TypedDict, built from plain values
            "amount": amount,
            "currency": stripe_currency,
            "automatic_payment_methods": {"enabled": True},
            "metadata": _metadata(metadata),
            "description": description[:1000],
        }
        intent = _call(
            "create_intent",
            lambda: self._client.v1.payment_intents.create(
                params, {"idempotency_key": idempotency_key}
            ),
        )
        return _intent(intent)

    def retrieve_intent(self, intent_id: str) -> Intent:
        return _intent(
            _call("retrieve_intent", lambda: self._client.v1.payment_intents.retrieve(intent_id))
        )

    def cancel_intent(self, intent_id: str, *, idempotency_key: str) -> Intent:
        return _intent(
            _call(
                "cancel_intent",
                lambda: self._client.v1.payment_intents.cancel(
                    intent_id, options={"idempotency_key": idempotency_key}
                ),
            )
        )

    def create_refund(
        self, *, intent_id: str, amount_minor: int, idempotency_key: str, reason: str
    ) -> ProcessorRefund:
        """Refund part or all of the intent's charge; a refund beyond what is left of it is
        :class:`RefundTooLarge`. The admin's reason travels as metadata (and as Stripe's
        ``reason`` when it is one of Stripe's own)."""
        intent = self.retrieve_intent(intent_id)
        try:
            amount, _currency = to_stripe(amount_minor, intent.currency)
        except AmountNotRepresentable as error:
            raise ProcessorRefused(code="amount_not_representable") from error
        params: Any = {
            "payment_intent": intent_id,
            "amount": amount,
            "metadata": {"reason": reason[:METADATA_VALUE_MAX]},
        }
        if reason.strip().lower() in STRIPE_REFUND_REASONS:
            params["reason"] = reason.strip().lower()
        refund = _call(
            "create_refund",
            lambda: self._client.v1.refunds.create(params, {"idempotency_key": idempotency_key}),
        )
        amount_minor, currency = from_stripe(refund.amount, refund.currency)
        return ProcessorRefund(
            id=refund.id,
            status=refund.status or "pending",
            amount_minor=amount_minor,
            currency=currency,
        )

    def succeeded_payments(self, since: datetime) -> Iterator[ProcessorPayment]:
        """Every succeeded PaymentIntent created at or after ``since``, page after page."""
        params: Any = {"created": {"gte": int(since.timestamp())}, "limit": 100}
        page = _call("list_intents", lambda: self._client.v1.payment_intents.list(params))
        items = page.auto_paging_iter()
        while True:
            intent = _call("list_intents", lambda: next(items, None))
            if intent is None:
                return
            if intent.status != "succeeded":
                continue
            received = intent.amount_received or intent.amount
            amount_minor, currency = from_stripe(received, intent.currency)
            yield ProcessorPayment(
                intent_id=intent.id,
                amount_minor=amount_minor,
                currency=currency,
                created=datetime.fromtimestamp(intent.created, UTC),
                metadata=intent.metadata.to_dict() if intent.metadata else {},
            )


def _metadata(metadata: Mapping[str, str]) -> dict[str, str]:
    return {str(key): str(value)[:METADATA_VALUE_MAX] for key, value in metadata.items()}


def _intent(intent: Any) -> Intent:
    amount_minor, currency = from_stripe(intent.amount, intent.currency)
    return Intent(
        id=intent.id,
        client_secret=intent.client_secret,
        status=intent.status,
        amount_minor=amount_minor,
        currency=currency,
    )


def _call(operation: str, request: Callable[[], T]) -> T:
    """Run one request to Stripe; turn Stripe's errors into the portal's, logged once."""
    try:
        return request()
    except stripe.InvalidRequestError as error:
        _log_failure(operation, error)
        if error.http_status == 404:  # an intent id Stripe does not know: nothing to retry
            raise ProcessorRefused(code=error.code or "resource_missing") from error
        if operation == "create_refund" and (
            error.code in _REFUND_TOO_LARGE_CODES or error.param == "amount"
        ):
            raise RefundTooLarge(code=error.code) from error
        raise ProcessorRefused(code=error.code) from error
    except (stripe.CardError, stripe.IdempotencyError) as error:
        # A decline is the intent's (not raised by these calls); a key reused with other
        # parameters is a bug of ours that retrying repeats.
        _log_failure(operation, error)
        raise ProcessorRefused(code=error.code or "idempotency_error") from error
    except stripe.StripeError as error:  # connection, timeout, 429, 5xx, key, permission...
        _log_failure(operation, error)
        raise ProcessorUnavailable(code=error.code) from error


def _log_failure(operation: str, error: stripe.StripeError) -> None:
    log.warning(
        "stripe %s failed: %s (http status %s, code %s, request id %s): %s",
        operation,
        type(error).__name__,
        error.http_status,
        error.code,
        error.request_id,
        _redacted(str(error.user_message or error)),
    )


def _redacted(text: str) -> str:
    """Stripe's message without anything that looks like a key or a client secret."""
    return _SECRETS.sub("[redacted]", text)[:300]
