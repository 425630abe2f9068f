"""The event processor's wiring to receipts and refunds: a booked payment's email receipt, once;
a ``charge.refunded`` event recorded and reversed once, however often it comes."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.extensions import db
from portal.loans.models import Installment, Payment
from portal.messaging.models import Message
from portal.payments.events import process_event
from portal.payments.models import Provider, Refund
from tests.payments.conftest import install_receipt_templates
from tests.payments.events.conftest import AMOUNT, NOW, intent_event


def _process(event) -> str:
    outcome = process_event(event, provider=Provider.STRIPE, now=NOW)
    db.session.commit()
    return outcome


def test_booking_queues_the_email_receipt_once(attempt):
    """payment_intent.succeeded twice (two event ids): one payment, one receipt email."""
    install_receipt_templates("zh_CN")
    install_receipt_templates("en")
    assert _process(intent_event(attempt)) == "booked"
    _process(intent_event(attempt))
    [message] = db.session.scalars(select(Message)).all()
    payment = db.session.scalar(select(Payment))
    assert message.purpose == "payment_receipt"
    assert message.dedupe_key == f"receipt:{payment.id}"
    assert message.loan_id == attempt.loan_id


def test_charge_refunded_delivered_twice_reverses_once(attempt, reversals):
    """A dashboard refund: the first delivery records and reverses it, the second is a duplicate,
    and the same refund under a new event id is recognised by its refund id."""
    _process(intent_event(attempt))
    charge = {
        "id": "ch_test_1",
        "object": "charge",
        "payment_intent": attempt.intent_id,
        "currency": "cny",
        "amount_refunded": 9_000,
        "refunds": {"data": [{"id": "re_dash_1", "amount": 9_000, "status": "succeeded"}]},
    }
    event = {"id": "evt_refund_1", "type": "charge.refunded", "data": {"object": charge}}
    assert _process(event) == "refund_recorded"
    assert _process(event) == "duplicate"
    assert _process({**event, "id": "evt_refund_2"}) == "refund_already_recorded"
    assert db.session.scalar(select(func.count()).select_from(Refund)) == 1
    paid = db.session.scalar(
        select(func.sum(Installment.total_paid)).where(Installment.loan_id == attempt.loan_id)
    )
    assert paid == AMOUNT - 9_000
    assert reversals == [(attempt.loan_id, NOW)]
