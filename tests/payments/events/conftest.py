"""A borrower's open payment attempt, and Stripe-shaped events about it."""

from __future__ import annotations

import itertools
import json
import time
from datetime import UTC, date, datetime

import pytest

from portal.extensions import db
from portal.payments.models import AttemptStatus, PaymentAttempt, PayOption, Provider
from tests.payments.stripe_server import signature_header

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
WEBHOOK_SECRET = "whsec_test_0123456789abcdef"
AMOUNT = 59_000  # the first installment of the test loan: 500.00 principal + 60.00 + 30.00

_event_ids = itertools.count(1)


@pytest.fixture
def attempt(app_ctx, make_user, make_loan) -> PaymentAttempt:
    borrower = make_user()
    loan_id = make_loan(borrower.id, disbursed_on=date(2026, 9, 1))
    row = PaymentAttempt(
        borrower_id=borrower.id,
        loan_id=loan_id,
        option=PayOption.OVERDUE,
        amount_minor=AMOUNT,
        currency="CNY",
        provider=Provider.STRIPE,
        idempotency_key=f"attempt-{loan_id}",
        intent_id=f"pi_test_{loan_id}",
        client_secret=f"pi_test_{loan_id}_secret_x",
        status=AttemptStatus.OPEN,
    )
    db.session.add(row)
    db.session.commit()
    return row


def intent_event(attempt, event_type="payment_intent.succeeded", *, event_id=None, **fields):
    """A Stripe event about ``attempt``'s PaymentIntent; ``fields`` override the intent's."""
    intent = {
        "id": attempt.intent_id,
        "object": "payment_intent",
        "amount": attempt.amount_minor,
        "amount_received": attempt.amount_minor,
        "currency": attempt.currency.lower(),
        "created": int(NOW.timestamp()) - 60,
        "status": "succeeded",
        "payment_method_types": ["card", "alipay", "wechat_pay"],
        "metadata": {"attempt_id": str(attempt.id), "loan_id": str(attempt.loan_id)},
        **fields,
    }
    return {
        "id": event_id or f"evt_test_{next(_event_ids)}",
        "object": "event",
        "type": event_type,
        "created": int(NOW.timestamp()),
        "data": {"object": intent},
    }


def dispute_event(attempt, event_type="charge.dispute.created", *, status="needs_response"):
    return {
        "id": f"evt_test_{next(_event_ids)}",
        "object": "event",
        "type": event_type,
        "created": int(NOW.timestamp()),
        "data": {
            "object": {
                "id": f"dp_test_{attempt.id}",
                "object": "dispute",
                "amount": attempt.amount_minor,
                "currency": "cny",
                "payment_intent": attempt.intent_id,
                "charge": f"ch_test_{attempt.id}",
                "reason": "fraudulent",
                "status": status,
            }
        },
    }


def signed(event: dict, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None):
    """The body and headers Stripe would send (no Stripe server needed for these tests)."""
    payload = json.dumps(event).encode()
    stamp = int(time.time()) if timestamp is None else timestamp
    header = signature_header(payload, secret, stamp)
    return payload, {"Stripe-Signature": header, "Content-Type": "application/json"}


@pytest.fixture
def webhook_app(app):
    app.config["STRIPE_WEBHOOK_SECRET"] = WEBHOOK_SECRET
    return app
