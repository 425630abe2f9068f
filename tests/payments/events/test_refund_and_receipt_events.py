"""The event processor's wiring to receipts and refunds: a booked payment's email receipt, once
(queued by the receipts pass after the booking);
a ``charge.refunded`` event recorded and reversed once, however often it comes."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from portal.extensions import db
from portal.loans.models import Installment, Payment, PaymentMethod
from portal.loans.services import record_payment
from portal.messaging.models import Message
from portal.payments.events import process_event
from portal.payments.models import Provider, Refund
from portal.payments.receipts.pending import send_pending_receipts
from tests.payments.conftest import install_receipt_templates
from tests.payments.events.conftest import AMOUNT, NOW, intent_event


def _process(event) -> str:
    outcome = process_event(event, provider=Provider.STRIPE, now=NOW)
    db.session.commit()
    return outcome


def test_a_booking_gets_its_email_receipt_once_after_it(attempt):
    """payment_intent.succeeded twice (two event ids): one payment; the receipts pass that
    follows the booking queues one email, and a second pass nothing more."""
    install_receipt_templates("zh_CN")
    install_receipt_templates("en")
    assert _process(intent_event(attempt)) == "booked"
    _process(intent_event(attempt))
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0  # not in the booking
    assert send_pending_receipts(NOW) == 1
    assert send_pending_receipts(NOW) == 0
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


def test_the_receipts_pass_skips_payments_not_made_through_the_portal(attempt, make_loan):
    """A payment staff recorded by hand (no attempt) gets no email from the pass."""
    install_receipt_templates("zh_CN")
    install_receipt_templates("en")
    record_payment(
        loan_id=attempt.loan_id,
        amount_minor=1_000,
        currency="CNY",
        method=PaymentMethod.BANK_TRANSFER,
        received_at=datetime(2026, 11, 19, tzinfo=UTC),
    )
    db.session.commit()
    assert send_pending_receipts(NOW) == 0
