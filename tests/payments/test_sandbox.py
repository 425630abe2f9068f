"""The sandbox: Stripe's test cards as test mode answers them, as Stripe-shaped events."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from portal.extensions import db
from portal.payments.gateway.sandbox import SandboxGateway
from portal.payments.models import PaymentAttempt, PayOption, ProcessorEvent, Provider
from portal.payments.sandbox_checkout import CardRefused, card_verdict, intent_event
from portal.payments.services import start_payment
from tests.payments.conftest import PAY_NOW as NOW
from tests.payments.conftest import PAY_TODAY as TODAY


@pytest.mark.parametrize(
    ("number", "succeeded", "code", "decline_code"),
    [
        ("4242 4242 4242 4242", True, None, None),
        ("4242424242424242", True, None, None),
        ("4000 0000 0000 0002", False, "card_declined", "generic_decline"),
        ("4000-0000-0000-9995", False, "card_declined", "insufficient_funds"),
    ],
)
def test_test_cards_behave_as_in_stripe_test_mode(number, succeeded, code, decline_code):
    verdict = card_verdict(number, "12/34", "123", today=TODAY)
    assert (verdict.succeeded, verdict.code, verdict.decline_code) == (
        succeeded,
        code,
        decline_code,
    )


@pytest.mark.parametrize(
    ("number", "expiry", "cvc", "field"),
    [
        ("4111 1111 1111 1111", "12/34", "123", "card_number"),  # a real-looking card: refused
        ("", "12/34", "123", "card_number"),
        ("4242 4242 4242 424", "12/34", "123", "card_number"),
        ("4242424242424242", "13/34", "123", "expiry"),
        ("4242424242424242", "09/26", "123", "expiry"),  # expired before October 2026
        ("4242424242424242", "12/34", "12", "cvc"),
        ("4242424242424242", "12/34", "12a", "cvc"),
    ],
)
def test_other_cards_and_bad_details_are_refused(app_ctx, number, expiry, cvc, field):
    """Not a test card, an expired or malformed expiry, a bad CVC: refused on that field."""
    with pytest.raises(CardRefused) as refused:
        card_verdict(number, expiry, cvc, today=TODAY)
    assert refused.value.field == field


@pytest.fixture
def attempt(app_ctx, overdue_loan, gateway):
    borrower, loan_id = overdue_loan
    made = start_payment(
        borrower_id=borrower.id,
        loan_id=loan_id,
        option=PayOption.OVERDUE,
        amount_minor=221_000,
        today=TODAY,
        now=NOW,
    )
    db.session.commit()
    return made


def test_success_is_a_stripe_shaped_succeeded_event(attempt):
    event = intent_event(
        attempt, card_verdict("4242424242424242", "1/30", "123", today=TODAY), now=NOW
    )
    assert event["id"].startswith("evt_sandbox_")
    assert (event["type"], event["created"]) == ("payment_intent.succeeded", int(NOW.timestamp()))
    intent = event["data"]["object"]
    assert intent["id"] == attempt.intent_id
    assert (intent["amount"], intent["amount_received"], intent["currency"]) == (
        221_000,
        221_000,
        "cny",
    )
    assert intent["metadata"] == {
        "attempt_id": str(attempt.id),
        "loan_id": str(attempt.loan_id),
        "borrower_id": str(attempt.borrower_id),
    }
    assert intent["latest_charge"].startswith("ch_sandbox_")
    assert "last_payment_error" not in intent


def test_decline_is_a_payment_failed_event_with_its_codes(attempt):
    verdict = card_verdict("4000000000009995", "01/30", "123", today=TODAY)
    event = intent_event(attempt, verdict, now=NOW)
    assert event["type"] == "payment_intent.payment_failed"
    intent = event["data"]["object"]
    assert intent["amount_received"] == 0
    assert intent["last_payment_error"]["code"] == "card_declined"
    assert intent["last_payment_error"]["decline_code"] == "insufficient_funds"


def test_sandbox_gateway_answers_the_whole_protocol(attempt):
    """Create (idempotent by key), retrieve, cancel, refund, and the succeeded payments."""
    gateway = SandboxGateway()
    same = gateway.create_intent(
        amount_minor=attempt.amount_minor,
        currency="CNY",
        idempotency_key=attempt.idempotency_key,
        metadata={},
        description="",
    )
    assert same.id == attempt.intent_id
    assert gateway.retrieve_intent(attempt.intent_id).status == "requires_payment_method"
    assert gateway.cancel_intent(attempt.intent_id, idempotency_key="c").status == "canceled"
    refund = gateway.create_refund(
        intent_id=attempt.intent_id, amount_minor=500, idempotency_key="r", reason="x"
    )
    assert refund.id.startswith("re_sandbox_")
    assert (refund.status, refund.amount_minor, refund.currency) == ("succeeded", 500, "CNY")

    event = intent_event(
        attempt, card_verdict("4242424242424242", "1/30", "123", today=TODAY), now=NOW
    )
    db.session.add(
        ProcessorEvent(
            id=event["id"],
            provider=Provider.SANDBOX,
            type=event["type"],
            object_id=attempt.intent_id,
            created=NOW,
            received_at=NOW,
            outcome="booked",
            payload=json.dumps(event),
        )
    )
    db.session.commit()
    [payment] = gateway.succeeded_payments(NOW - timedelta(days=1))
    assert (payment.intent_id, payment.amount_minor, payment.currency) == (
        attempt.intent_id,
        221_000,
        "CNY",
    )
    assert payment.metadata["attempt_id"] == str(attempt.id)
    assert list(gateway.succeeded_payments(datetime(2027, 1, 1, tzinfo=UTC))) == []
    assert db.session.get(PaymentAttempt, attempt.id) is not None
