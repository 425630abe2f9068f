"""StripeGateway through the real ``stripe`` library against the local Stripe-compatible server."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import pytest

from portal.payments.gateway import ProcessorRefused, ProcessorUnavailable, RefundTooLarge
from portal.payments.gateway.stripe import StripeGateway


@pytest.fixture
def gateway(app_ctx, fake_stripe) -> StripeGateway:
    return StripeGateway.from_config()


def _create(gateway, key="attempt-1-key", amount=12_345, currency="CNY", **metadata):
    return gateway.create_intent(
        amount_minor=amount,
        currency=currency,
        idempotency_key=key,
        metadata={"attempt_id": "1", "loan_id": "7", "borrower_id": "3", **metadata},
        description="Loan LN-1 repayment",
    )


def test_create_intent_sends_amount_currency_metadata_and_idempotency_key(gateway, fake_stripe):
    """The create call carries what the portal decided, lower-case currency, and the key."""
    intent = _create(gateway)

    (sent,) = fake_stripe.requests_to("POST", "/v1/payment_intents")
    assert sent.params["amount"] == "12345"
    assert sent.params["currency"] == "cny"
    assert sent.params["automatic_payment_methods[enabled]"] == "true"
    assert sent.params["description"] == "Loan LN-1 repayment"
    assert sent.metadata == {"attempt_id": "1", "loan_id": "7", "borrower_id": "3"}
    assert sent.idempotency_key == "attempt-1-key"
    assert sent.headers["authorization"] == f"Bearer {fake_stripe.secret_key}"
    assert intent.id.startswith("pi_")
    assert intent.client_secret
    assert intent.client_secret.startswith(intent.id)
    assert (intent.amount_minor, intent.currency, intent.status) == (
        12_345,
        "CNY",
        "requires_payment_method",
    )


def test_same_idempotency_key_returns_the_same_intent(gateway, fake_stripe):
    """A retried create (double click, reload) gets the first intent back: one charge."""
    first = _create(gateway)
    again = _create(gateway)
    other = _create(gateway, key="attempt-2-key")

    assert again.id == first.id
    assert other.id != first.id
    assert len(fake_stripe.state.intents) == 2


def test_every_create_call_carries_an_idempotency_key(gateway, fake_stripe):
    """Intents, cancellations and refunds: no POST reaches Stripe without a key."""
    intent = _create(gateway)
    gateway.cancel_intent(intent.id, idempotency_key="cancel-1")
    paid = _create(gateway, key="attempt-2")
    fake_stripe.succeed(paid.id)
    gateway.create_refund(
        intent_id=paid.id, amount_minor=100, idempotency_key="refund-1", reason="overpaid"
    )

    posts = fake_stripe.requests_to("POST", "/v1/")
    assert [p.path for p in posts] == [
        "/v1/payment_intents",
        f"/v1/payment_intents/{intent.id}/cancel",
        "/v1/payment_intents",
        "/v1/refunds",
    ]
    assert [p.idempotency_key for p in posts] == [
        "attempt-1-key",
        "cancel-1",
        "attempt-2",
        "refund-1",
    ]


@pytest.mark.parametrize(
    ("currency", "ours", "stripes"),
    [
        ("CNY", 12_345, 12_345),
        ("JPY", 5_000, 5_000),
        ("KRW", 70_000, 70_000),
        ("ISK", 1_500, 150_000),
    ],
)
def test_minor_units_map_to_stripe_amounts(gateway, fake_stripe, currency, ours, stripes):
    """Zero-decimal currencies stay whole units; ISK is two-decimal on Stripe's side."""
    intent = _create(gateway, amount=ours, currency=currency)

    (sent,) = fake_stripe.requests_to("POST", "/v1/payment_intents")
    assert sent.params["amount"] == str(stripes)
    assert sent.params["currency"] == currency.lower()
    assert (intent.amount_minor, intent.currency) == (ours, currency)


def test_retrieve_and_cancel_intent(gateway, fake_stripe):
    intent = _create(gateway)
    fake_stripe.intent(intent.id)["status"] = "processing"

    assert gateway.retrieve_intent(intent.id).status == "processing"
    fake_stripe.intent(intent.id)["status"] = "requires_payment_method"
    assert gateway.cancel_intent(intent.id, idempotency_key="c-1").status == "canceled"


def test_unknown_intent_is_refused_not_unavailable(gateway):
    """A 404 from Stripe will not change by retrying: ProcessorRefused."""
    with pytest.raises(ProcessorRefused) as raised:
        gateway.retrieve_intent("pi_unknown")
    assert raised.value.code == "resource_missing"


def test_refund_sends_amount_reason_and_key(gateway, fake_stripe):
    intent = _create(gateway)
    fake_stripe.succeed(intent.id)

    refund = gateway.create_refund(
        intent_id=intent.id, amount_minor=5_000, idempotency_key="refund-1", reason="Paid twice"
    )
    stripe_reason = gateway.create_refund(
        intent_id=intent.id,
        amount_minor=1_000,
        idempotency_key="refund-2",
        reason="requested_by_customer",
    )

    first, second = fake_stripe.requests_to("POST", "/v1/refunds")
    assert first.params["payment_intent"] == intent.id
    assert first.params["amount"] == "5000"
    assert first.metadata == {"reason": "Paid twice"}
    assert "reason" not in first.params  # free text is not one of Stripe's reasons
    assert second.params["reason"] == "requested_by_customer"
    assert (refund.amount_minor, refund.currency, refund.status) == (5_000, "CNY", "succeeded")
    assert stripe_reason.id != refund.id


def test_refund_larger_than_the_charge_is_refused(gateway, fake_stripe):
    """Stripe's 400 for a refund beyond what is left becomes RefundTooLarge, nothing refunded."""
    intent = _create(gateway, amount=10_000)
    fake_stripe.succeed(intent.id)
    gateway.create_refund(intent_id=intent.id, amount_minor=6_000, idempotency_key="r1", reason="x")

    with pytest.raises(RefundTooLarge) as raised:
        gateway.create_refund(
            intent_id=intent.id, amount_minor=4_001, idempotency_key="r2", reason="x"
        )
    assert raised.value.status_code == 422
    assert len(fake_stripe.state.refunds) == 1


def test_succeeded_payments_pages_through_every_page(gateway, fake_stripe):
    """Auto-pagination: 250 intents at 100 a page are all read; only succeeded ones yielded."""
    now = int(time.time())
    for number in range(250):
        fake_stripe.add_intent(amount=100 + number, created=now, metadata={"n": str(number)})
    fake_stripe.add_intent(amount=999, status="requires_payment_method", created=now)
    fake_stripe.add_intent(amount=777, created=now - 10 * 86_400)  # before `since`

    payments = list(gateway.succeeded_payments(datetime.fromtimestamp(now - 86_400, UTC)))

    assert len(payments) == 250
    assert sorted(p.amount_minor for p in payments) == list(range(100, 350))
    assert len({p.intent_id for p in payments}) == 250
    pages = fake_stripe.requests_to("GET", "/v1/payment_intents")
    assert len(pages) == 3
    assert all(p.params["created[gte]"] == str(now - 86_400) for p in pages)
    assert "starting_after" not in pages[0].params
    assert pages[1].params["starting_after"]
    assert pages[2].params["starting_after"]
    assert payments[0].metadata["n"]
    assert payments[0].currency == "CNY"


def test_succeeded_payments_report_the_amount_received(gateway, fake_stripe):
    intent = fake_stripe.add_intent(amount=10_000, status="requires_payment_method")
    fake_stripe.succeed(intent["id"], amount_received=9_000)

    (payment,) = gateway.succeeded_payments(datetime(2020, 1, 1, tzinfo=UTC))
    assert payment.amount_minor == 9_000


def _unavailable_within(seconds: float, call) -> ProcessorUnavailable:
    started = time.monotonic()
    with pytest.raises(ProcessorUnavailable) as raised:
        call()
    assert time.monotonic() - started < seconds
    return raised.value


@pytest.mark.parametrize("status", [500, 503, 429, 401])
def test_an_error_answer_is_processor_unavailable(gateway, fake_stripe, status):
    """5xx, rate limited or a wrong key: the caller sees ProcessorUnavailable at once."""
    fake_stripe.fail_with(status)

    _unavailable_within(2, lambda: _create(gateway))
    _unavailable_within(
        2, lambda: list(gateway.succeeded_payments(datetime(2020, 1, 1, tzinfo=UTC)))
    )


def test_a_slow_stripe_times_out(gateway, fake_stripe):
    """Stripe answering after the read timeout (0.5 s here): unavailable, well within 2 s."""
    fake_stripe.slow(3)

    _unavailable_within(2, lambda: _create(gateway))


def test_stripe_unreachable_is_unavailable(gateway, fake_stripe):
    fake_stripe.stop()

    _unavailable_within(2, lambda: _create(gateway))
    _unavailable_within(2, lambda: gateway.retrieve_intent("pi_1"))


def test_a_network_retry_resends_the_same_idempotency_key(app_ctx, fake_stripe):
    """With retries on, a 500 is retried with the same key: still one intent."""
    app_ctx.config["STRIPE_MAX_NETWORK_RETRIES"] = 1
    gateway = StripeGateway.from_config()
    fake_stripe.fail_with(500, times=1)

    intent = _create(gateway)

    first, second = fake_stripe.requests_to("POST", "/v1/payment_intents")
    assert first.idempotency_key == second.idempotency_key == "attempt-1-key"
    assert list(fake_stripe.state.intents) == [intent.id]


def test_failures_are_logged_with_the_request_id_and_no_secret(gateway, fake_stripe, caplog):
    fake_stripe.fail_with(500)

    with caplog.at_level(logging.WARNING, logger="portal.payments.gateway.stripe"):
        with pytest.raises(ProcessorUnavailable) as raised:
            _create(gateway)

    logged = caplog.text
    assert "create_intent" in logged
    assert "req_fake_" in logged
    assert fake_stripe.secret_key not in logged
    assert fake_stripe.secret_key not in str(raised.value)


def test_amount_stripe_cannot_take_is_refused_before_any_request(gateway, fake_stripe):
    """Three-decimal currencies must end in 0 on Stripe: refused locally, nothing sent."""
    with pytest.raises(ProcessorRefused):
        _create(gateway, amount=1_005, currency="BHD")
    assert fake_stripe.requests == []


def test_a_key_reused_with_other_parameters_is_refused(gateway, fake_stripe):
    """Stripe's idempotency_error: the same key never creates a second, different intent."""
    _create(gateway, amount=10_000)

    with pytest.raises(ProcessorRefused) as raised:
        _create(gateway, amount=20_000)
    assert raised.value.code == "idempotency_error"
    assert len(fake_stripe.state.intents) == 1
