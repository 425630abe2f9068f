"""Chargebacks put the borrower's collection on hold until the dispute closes."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.messaging.models import ContactHold, HoldReason
from portal.payments.events import EventNotReady, process_event
from portal.payments.models import Dispute, PaymentIssue, ProcessorEvent, Provider
from tests.payments.events.conftest import NOW, dispute_event, intent_event


def _process(event):
    outcome = process_event(event, provider=Provider.STRIPE, now=NOW)
    db.session.commit()
    return outcome


def test_a_dispute_opens_a_hold_and_its_close_lifts_it(attempt):
    _process(intent_event(attempt))
    assert _process(dispute_event(attempt)) == "hold_opened"
    hold = db.session.scalars(select(ContactHold)).one()
    assert (hold.borrower_id, hold.reason, hold.closed_at) == (
        attempt.borrower_id,
        HoldReason.DISPUTE,
        None,
    )
    dispute = db.session.scalars(select(Dispute)).one()
    assert (dispute.payment_id, dispute.hold_id) == (attempt.payment_id, hold.id)

    closed = dispute_event(attempt, "charge.dispute.closed", status="won")
    assert _process(closed) == "hold_closed"
    db.session.refresh(hold)
    assert hold.closed_at is not None
    assert dispute.status == "won"


def test_a_dispute_reported_twice_opens_one_hold(attempt):
    _process(intent_event(attempt))
    _process(dispute_event(attempt))
    assert _process(dispute_event(attempt)) == "already_recorded"
    assert db.session.scalar(select(func.count()).select_from(ContactHold)) == 1


def test_a_dispute_before_its_payment_is_booked_waits_and_stores_nothing(attempt):
    event = dispute_event(attempt)
    with pytest.raises(EventNotReady):
        process_event(event, provider=Provider.STRIPE, now=NOW)
    db.session.rollback()
    assert db.session.get(ProcessorEvent, event["id"]) is None
    # Delivered again once the payment is booked, it is processed.
    _process(intent_event(attempt))
    assert _process(event) == "hold_opened"


def test_a_close_before_the_open_waits(attempt):
    _process(intent_event(attempt))
    with pytest.raises(EventNotReady):
        process_event(
            dispute_event(attempt, "charge.dispute.closed"), provider=Provider.STRIPE, now=NOW
        )
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Dispute)) == 0


def test_a_dispute_on_a_payment_nobody_knows_is_flagged(attempt):
    attempt.intent_id = "pi_changed"
    db.session.commit()
    event = dispute_event(attempt)
    event["data"]["object"]["payment_intent"] = "pi_unknown"
    assert _process(event) == "flagged"
    assert db.session.scalar(select(func.count()).select_from(PaymentIssue)) == 1
    assert db.session.scalar(select(func.count()).select_from(ContactHold)) == 0
