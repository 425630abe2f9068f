"""The admin's refund through the real stripe library to the local Stripe-compatible server."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.auth.models import Role
from portal.extensions import db
from portal.payments.gateway import ProcessorUnavailable
from portal.payments.models import Refund, RefundStatus
from portal.payments.refunds import refund_payment
from tests.payments.conftest import NOW


@pytest.fixture
def paid(app_ctx, fake_stripe, make_user, make_loan, book):
    intent = fake_stripe.add_intent(amount=20_000)
    payment_id = book(make_loan(make_user().id), 20_000, reference=intent["id"])
    return payment_id, intent["id"], make_user(Role.ADMIN).id


def test_refund_reaches_stripe_with_its_idempotency_key(paid, fake_stripe, reversals):
    """Amount, intent, the admin's reason as metadata and the stored idempotency key."""
    payment_id, intent_id, admin_id = paid
    refund = refund_payment(
        payment_id=payment_id, amount_minor=7_500, reason="Paid twice", actor_id=admin_id, now=NOW
    )
    db.session.commit()
    (sent,) = fake_stripe.requests_to("POST", "/v1/refunds")
    assert sent.params["payment_intent"] == intent_id
    assert sent.params["amount"] == "7500"
    assert sent.params["metadata[reason]"] == "Paid twice"
    assert sent.idempotency_key == refund.idempotency_key
    assert refund.status is RefundStatus.SUCCEEDED
    assert refund.processor_refund_id.startswith("re_fake_")
    assert reversals


def test_stripe_down_keeps_the_refund_failed(paid, fake_stripe, reversals):
    """Stripe answering 500: ProcessorUnavailable, the refund failed, nothing reversed."""
    payment_id, _intent_id, admin_id = paid
    fake_stripe.fail_with(500)
    with pytest.raises(ProcessorUnavailable):
        refund_payment(
            payment_id=payment_id, amount_minor=7_500, reason="x", actor_id=admin_id, now=NOW
        )
    db.session.commit()
    assert db.session.scalar(select(Refund.status)) is RefundStatus.FAILED
    assert reversals == []
