"""Intent created through the library, paid at the fake Stripe, its signed webhook booked, and the
period reconciles; the fake's signatures are the ones Stripe's library checks."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import stripe

from portal.extensions import db
from portal.payments.gateway.stripe import StripeGateway
from portal.payments.models import AttemptStatus, PaymentAttempt, PayOption, Provider
from portal.payments.reconciliation import reconcile


def test_signed_events_pass_stripes_own_check(fake_stripe):
    event = fake_stripe.event(
        "payment_intent.succeeded", {"id": "pi_x", "object": "payment_intent"}
    )
    payload, headers = fake_stripe.signed(event)

    checked = stripe.Webhook.construct_event(
        payload, headers["Stripe-Signature"], fake_stripe.webhook_secret
    )
    assert checked["id"] == event["id"]
    forged, forged_headers = fake_stripe.signed(event, secret="whsec_someone_else")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(
            forged, forged_headers["Stripe-Signature"], fake_stripe.webhook_secret
        )
    old, old_headers = fake_stripe.signed(event, timestamp=int(time.time()) - 600)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(
            old, old_headers["Stripe-Signature"], fake_stripe.webhook_secret
        )


def test_a_payment_from_intent_to_ledger_reconciles(app, client, fake_stripe, make_user, make_loan):
    borrower = make_user()
    loan_id = make_loan(borrower.id)
    with app.app_context():
        attempt = PaymentAttempt(
            borrower_id=borrower.id,
            loan_id=loan_id,
            option=PayOption.OTHER,
            amount_minor=25_000,
            currency="CNY",
            provider=Provider.STRIPE,
            idempotency_key="attempt-e2e",
        )
        db.session.add(attempt)
        db.session.flush()
        intent = StripeGateway.from_config().create_intent(
            amount_minor=25_000,
            currency="CNY",
            idempotency_key=attempt.idempotency_key,
            metadata={"attempt_id": str(attempt.id), "loan_id": str(loan_id)},
            description="e2e",
        )
        attempt.intent_id, attempt.client_secret = intent.id, intent.client_secret
        attempt.status = AttemptStatus.PROCESSING
        db.session.commit()
    paid = fake_stripe.succeed(intent.id)
    since = datetime.now(UTC) - timedelta(days=1)
    with app.app_context():
        before = reconcile(StripeGateway.from_config(), since)
    assert [e.intent_id for e in before.processor_only] == [intent.id]

    payload, headers = fake_stripe.signed(fake_stripe.event("payment_intent.succeeded", paid))
    response = client.post("/webhooks/stripe", data=payload, headers=headers)

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["outcome"] == "booked"
    with app.app_context():
        after = reconcile(StripeGateway.from_config(), since)
    assert after.clean
    assert (after.processor_count, after.ledger_count, after.matched) == (1, 1, 1)
