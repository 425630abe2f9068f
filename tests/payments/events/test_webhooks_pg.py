"""On PostgreSQL, one success delivered by 10 concurrent requests books exactly one payment."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.loans.models import Installment, Payment
from portal.payments.models import ProcessorEvent
from tests.payments.events.conftest import AMOUNT, intent_event, signed

pytestmark = pytest.mark.postgres


def test_ten_concurrent_deliveries_of_one_success_book_one_payment(webhook_app, attempt):
    payload, headers = signed(intent_event(attempt))
    start = threading.Barrier(10)

    def deliver():
        client = webhook_app.test_client()
        start.wait()
        response = client.post("/webhooks/stripe", data=payload, headers=headers)
        return response.status_code, response.json["outcome"]

    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(lambda _: deliver(), range(10)))
    assert sorted(results) == [(200, "booked")] + [(200, "duplicate")] * 9
    with webhook_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Payment)) == 1
        assert db.session.scalar(select(func.count()).select_from(ProcessorEvent)) == 1
        paid = db.session.scalar(
            select(
                func.sum(
                    Installment.principal_paid
                    + Installment.interest_paid
                    + Installment.fee_paid
                    + Installment.late_charge_paid
                )
            ).where(Installment.loan_id == attempt.loan_id)
        )
        assert paid == AMOUNT


def test_two_different_events_for_one_intent_at_once_book_one_payment(webhook_app, attempt):
    """Stripe may send a success twice under two event ids: the attempt row lock decides."""
    bodies = [signed(intent_event(attempt)) for _ in range(6)]
    start = threading.Barrier(6)

    def deliver(body):
        payload, headers = body
        client = webhook_app.test_client()
        start.wait()
        return client.post("/webhooks/stripe", data=payload, headers=headers).json["outcome"]

    with ThreadPoolExecutor(6) as pool:
        outcomes = sorted(pool.map(deliver, bodies))
    assert outcomes == ["already_booked"] * 5 + ["booked"]
    with webhook_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Payment)) == 1
