"""A worker killed mid-batch loses and duplicates nothing: a real process, SMTP server and kill.

The dispatcher runs as ``flask --app wsgi messaging dispatch`` in a subprocess, on the test's
database (a SQLite file, or PostgreSQL with TEST_DATABASE_URL). The SMTP sink SIGKILLs it
while it waits for the answer to its 15th DATA and refuses that message, so the message was not
accepted and must still go out. A second run re-queues the stuck claim and delivers the rest.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from portal.auth.models import Role
from portal.extensions import db
from portal.messaging.models import Message, MessageStatus
from portal.messaging.rulebooks import save_rulebook
from portal.timeutil import utcnow
from tests.messaging.channels.conftest import HOST, queue_email, running_sink

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = 40
BATCH = 10
KILL_AT_DATA = 15


def zone_at_midday(now: datetime) -> str:
    """A fixed-offset zone where ``now`` is around noon: inside any contact window."""
    offset = 12 - now.hour  # -11 .. +12 hours from UTC
    return f"Etc/GMT{-offset:+d}"  # POSIX sign: Etc/GMT-8 is eight hours ahead of UTC


def worker_command(*options: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "wsgi", "messaging", "dispatch", *options]


def worker_env(database_url: str, smtp_port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "PORTAL_ENV")}
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY="test-secret",
        SMTP_HOST=HOST,
        SMTP_PORT=str(smtp_port),
        SMTP_TIMEOUT="10",
        **extra,
    )
    return env


def statuses(app) -> dict[MessageStatus, int]:
    with app.app_context():
        rows = db.session.execute(select(Message.status, func.count()).group_by(Message.status))
        return {status: count for status, count in rows}


def test_a_worker_killed_mid_batch_loses_and_duplicates_nothing(app, database_url, make_user):
    """SIGKILL during the 15th send: after a sweep every email is sent and accepted exactly once."""
    now = utcnow()
    with app.app_context():  # one borrower, so the daily email cap must allow all of them
        save_rulebook("CN", {"daily_caps": {"email": 1000, "sms": 2}}, actor_id=None, now=now)
        db.session.commit()
    borrower = make_user(Role.BORROWER, locale="zh_CN", timezone=zone_at_midday(now))
    with app.app_context():
        keys = {queue_email(borrower.id, now).idempotency_key for _ in range(MESSAGES)}
    assert len(keys) == MESSAGES

    with running_sink() as sink:
        worker = subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
            worker_command("--batch-size", str(BATCH)),
            cwd=ROOT,
            env=worker_env(database_url, sink.port),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

        def kill_on_15th(number: int) -> str | None:
            if number != KILL_AT_DATA:
                return None
            os.kill(worker.pid, signal.SIGKILL)
            return "451 4.3.0 Worker gone, not accepted"

        sink.on_data = kill_on_15th
        _, stderr = worker.communicate(timeout=120)
        assert worker.returncode == -signal.SIGKILL, stderr.decode()
        # Killed as designed: one batch sent, 4 of the next sent, its other 6 stuck in sending.
        assert len(sink.messages) == KILL_AT_DATA - 1
        assert statuses(app) == {
            MessageStatus.SENT: KILL_AT_DATA - 1,
            MessageStatus.SENDING: 2 * BATCH - (KILL_AT_DATA - 1),
            MessageStatus.QUEUED: MESSAGES - 2 * BATCH,
        }

        sink.on_data = None
        second = subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
            worker_command(),
            cwd=ROOT,
            env=worker_env(database_url, sink.port, MESSAGE_STUCK_MINUTES="0"),
            capture_output=True,
            timeout=120,
            check=False,
        )
        assert second.returncode == 0, second.stderr.decode()
        summary = json.loads(second.stdout.decode().strip().splitlines()[-1])
        assert summary["swept"] == 2 * BATCH - (KILL_AT_DATA - 1)
        assert summary["sent"] == MESSAGES - (KILL_AT_DATA - 1)

    accepted = Counter(sink.message_ids())
    assert sum(accepted.values()) == MESSAGES
    assert set(accepted.values()) == {1}  # no message accepted twice
    assert {key for key in keys if any(key in mid for mid in accepted)} == keys  # none lost
    assert statuses(app) == {MessageStatus.SENT: MESSAGES}
    with app.app_context():
        references = set(db.session.scalars(select(Message.provider_reference)))
    assert references == set(accepted)
