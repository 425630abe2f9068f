"""On PostgreSQL, two requests starting the same payment at once make one attempt, one intent."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.payments.models import PaymentAttempt, PayOption
from portal.payments.services import start_payment
from tests.payments.conftest import PAY_NOW as NOW
from tests.payments.conftest import PAY_TODAY as TODAY

pytestmark = pytest.mark.postgres


def test_two_concurrent_starts_make_one_attempt_and_one_intent(app, overdue_loan, gateway):
    """Both requests get the same attempt; the processor is asked once."""
    borrower, loan_id = overdue_loan
    barrier = threading.Barrier(2)
    create = gateway.create_intent

    def slow_create(**kwargs):
        time.sleep(0.3)  # the first request still holds its uncommitted insert
        return create(**kwargs)

    gateway.create_intent = slow_create  # type: ignore[method-assign]

    def start():
        with app.app_context():
            barrier.wait()
            attempt = start_payment(
                borrower_id=borrower.id,
                loan_id=loan_id,
                option=PayOption.OVERDUE,
                amount_minor=221_000,
                today=TODAY,
                now=NOW,
            )
            db.session.commit()
            return attempt.id, attempt.intent_id

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: start(), range(2)))
    assert results[0] == results[1]
    assert len(gateway.calls) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PaymentAttempt)) == 1
