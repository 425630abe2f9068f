"""Concurrent workers on PostgreSQL: claims with FOR UPDATE SKIP LOCKED never overlap."""

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from portal.auth.models import Channel
from portal.extensions import db
from portal.messaging.dispatch import dispatch_due
from portal.messaging.models import Message, MessageStatus
from portal.messaging.outbox import enqueue
from tests.messaging.conftest import NOON_SHANGHAI

pytestmark = pytest.mark.postgres


class SlowPortal:
    """An in-portal channel that takes a moment per message, so the workers overlap."""

    def __init__(self, delivered: list, worker: str):
        self.delivered, self.worker = delivered, worker

    def open(self):
        pass

    def close(self):
        pass

    def send(self, message, borrower):
        time.sleep(0.002)
        self.delivered.append((message.id, self.worker))


def test_two_workers_deliver_each_message_exactly_once(app, make_user, templates_installed):
    """Two workers draining one queue at once: every message delivered once, both worked."""
    with app.app_context():
        for _ in range(10):
            borrower = make_user()
            for n in range(30):
                enqueue(
                    borrower_id=borrower.id,
                    purpose_code="due_today",
                    channel=Channel.PORTAL,
                    variables={
                        "loan_reference": f"LN-{n}",
                        "amount_due": "¥1.00",
                        "pay_url": "http://127.0.0.1/pay",
                    },
                    now=NOON_SHANGHAI,
                )
        db.session.commit()
    delivered: list = []
    start = threading.Barrier(2)

    def worker(name):
        with app.app_context():
            start.wait()
            return dispatch_due(
                lambda: NOON_SHANGHAI,
                batch_size=15,
                adapters={Channel.PORTAL: SlowPortal(delivered, name)},
            )

    with ThreadPoolExecutor(2) as pool:
        reports = list(pool.map(worker, ["a", "b"]))
    counts = Counter(message_id for message_id, _ in delivered)
    assert len(counts) == 300
    assert max(counts.values()) == 1
    assert {name for _, name in delivered} == {"a", "b"}
    assert sum(r.sent for r in reports) == 300
    with app.app_context():
        statuses = dict(
            db.session.execute(select(Message.status, func.count()).group_by(Message.status)).all()
        )
        assert statuses == {MessageStatus.SENT: 300}
