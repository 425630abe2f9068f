"""With REDIS_URL set, delivery runs as Celery tasks on a Redis broker."""

import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.auth.models import Channel
from portal.extensions import db
from portal.messaging.models import Message, MessageStatus
from portal.messaging.outbox import enqueue
from portal.timeutil import utcnow
from tests.conftest import base_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def redis_url():
    # A database of its own, so parallel runs on this machine do not share a queue.
    return f"redis://127.0.0.1:6379/{random.randint(8, 15)}"


def test_dispatch_task_runs_on_a_celery_worker(
    app, database_url, redis_url, make_user, templates_installed
):
    """A task sent through Redis is run by a Celery worker process, which delivers the notice."""
    with app.app_context():
        borrower = make_user()
        message = enqueue(
            borrower_id=borrower.id,
            purpose_code="due_today",
            channel=Channel.PORTAL,
            now=utcnow(),
            variables={
                "loan_reference": "LN-1",
                "amount_due": "¥1.00",
                "pay_url": "http://127.0.0.1/pay",
            },
        )
        db.session.commit()
        message_id = message.id
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "test-secret",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "wsgi.celery_app",
            "worker",
            "--pool=solo",
            "--loglevel=warning",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        sender = create_app({**base_config(database_url), "REDIS_URL": redis_url})
        sender.extensions["celery"].send_task("messaging.dispatch")
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline:
            with app.app_context():
                status = db.session.scalar(select(Message.status).where(Message.id == message_id))
                db.session.remove()
            if status is MessageStatus.SENT:
                break
            assert worker.poll() is None, "the Celery worker exited early"
            time.sleep(0.2)
        assert status is MessageStatus.SENT
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(Message)) == 1
    finally:
        worker.terminate()
        worker.communicate(timeout=10)  # reaps the process and closes its pipe
