"""PaymentIntent events: a payment books once, exactly as the attempt said, in any order."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.loans.models import Payment, PaymentMethod
from portal.payments.events import MalformedEvent, process_event
from portal.payments.models import (
    AttemptStatus,
    IssueKind,
    PaymentIssue,
    ProcessorEvent,
    Provider,
)
from tests.payments.events.conftest import AMOUNT, NOW, intent_event


def _process(event):
    outcome = process_event(event, provider=Provider.STRIPE, now=NOW)
    db.session.commit()
    return outcome


def _payments():
    return db.session.scalar(select(func.count()).select_from(Payment))


def test_a_succeeded_intent_books_the_payment_and_links_the_attempt(attempt):
    assert _process(intent_event(attempt)) == "booked"
    payment = db.session.scalars(select(Payment)).one()
    assert (payment.amount_minor, payment.currency) == (attempt.amount_minor, "CNY")
    assert payment.external_reference == attempt.intent_id
    assert sum(a.amount_minor for a in payment.allocations) == attempt.amount_minor
    assert (attempt.status, attempt.payment_id) == (AttemptStatus.SUCCEEDED, payment.id)


def test_the_same_event_delivered_twice_books_once(attempt):
    event = intent_event(attempt)
    assert _process(event) == "booked"
    assert _process(event) == "duplicate"
    assert _payments() == 1
    assert db.session.scalar(select(func.count()).select_from(ProcessorEvent)) == 1


def test_a_second_success_event_for_the_same_intent_books_nothing(attempt):
    _process(intent_event(attempt))
    assert _process(intent_event(attempt)) == "already_booked"
    assert _payments() == 1


@pytest.mark.parametrize(
    "fields",
    [
        {"amount_received": AMOUNT - 1},
        {"currency": "usd"},
        {"currency": "xyz"},
        {"amount_received": "59000"},
        {"amount_received": None, "amount": None},
    ],
    ids=["amount", "currency", "no such currency", "amount as text", "no amount"],
)
def test_an_amount_or_currency_unlike_the_attempt_is_flagged_never_booked(attempt, fields):
    assert _process(intent_event(attempt, **fields)) == "flagged"
    assert _payments() == 0
    assert attempt.status is AttemptStatus.NEEDS_REVIEW
    issue = db.session.scalars(select(PaymentIssue)).one()
    assert (issue.kind, issue.attempt_id) == (IssueKind.AMOUNT_MISMATCH, attempt.id)


def test_a_success_for_an_intent_the_portal_never_made_is_flagged(attempt):
    event = intent_event(attempt, id="pi_someone_else")
    assert _process(event) == "flagged"
    assert _payments() == 0
    assert db.session.scalars(select(PaymentIssue)).one().kind is IssueKind.UNKNOWN_INTENT


def test_a_decline_reopens_the_attempt_with_the_reason(attempt):
    event = intent_event(
        attempt,
        "payment_intent.payment_failed",
        status="requires_payment_method",
        last_payment_error={"code": "card_declined", "decline_code": "insufficient_funds"},
    )
    assert _process(event) == "declined"
    assert (attempt.status, attempt.failure_code) == (AttemptStatus.OPEN, "insufficient_funds")
    assert _payments() == 0


def test_a_decline_arriving_after_the_success_changes_nothing(attempt):
    _process(intent_event(attempt))
    late = intent_event(attempt, "payment_intent.payment_failed", last_payment_error={})
    assert _process(late) == "stale"
    assert attempt.status is AttemptStatus.SUCCEEDED
    assert _payments() == 1


def test_a_success_after_a_decline_still_books(attempt):
    _process(intent_event(attempt, "payment_intent.payment_failed", last_payment_error={}))
    assert _process(intent_event(attempt)) == "booked"
    assert attempt.failure_code is None


def test_processing_then_canceled(attempt):
    assert _process(intent_event(attempt, "payment_intent.processing")) == "processing"
    assert attempt.status is AttemptStatus.PROCESSING
    assert _process(intent_event(attempt, "payment_intent.canceled")) == "canceled"
    assert attempt.status is AttemptStatus.CANCELED
    assert _payments() == 0


def test_the_method_comes_from_the_charge_when_the_event_carries_it(attempt):
    charge = {"id": "ch_1", "payment_method_details": {"type": "wechat_pay"}}
    _process(intent_event(attempt, latest_charge=charge))
    assert db.session.scalars(select(Payment)).one().method is PaymentMethod.WECHAT_PAY


def test_an_event_of_another_type_is_stored_and_ignored(attempt):
    event = intent_event(attempt, "customer.created")
    assert _process(event) == "ignored"
    assert db.session.get(ProcessorEvent, event["id"]).outcome == "ignored"


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"id": "evt_1", "type": "x"},
        {"id": "", "type": "x", "data": {"object": {}}},
        {"id": "evt_1", "type": "x", "data": {"object": []}},
        {"id": 5, "type": "x", "data": {}},
    ],
)
def test_what_is_not_an_event_is_refused_and_stores_nothing(app_ctx, event):
    with pytest.raises(MalformedEvent):
        process_event(event, provider=Provider.STRIPE, now=NOW)
    assert db.session.scalar(select(func.count()).select_from(ProcessorEvent)) == 0
