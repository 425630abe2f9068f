"""Browser tests: a live portal in a thread, driven with Playwright through Debian's Chromium."""

from __future__ import annotations

import os
import socket
import threading
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import update
from werkzeug.serving import make_server

from portal.auth.models import Channel
from portal.collections.run import run_collections
from portal.demo import seed
from portal.extensions import db
from portal.messaging.dispatch import dispatch_due
from portal.messaging.models import ContactDecisionRecord, Message
from portal.timeutil import local_today, utcnow
from tests.collections.conftest import freeze

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}. Install it with "
            "`sudo apt-get install -y chromium fonts-wqy-microhei` (make test does this as root), "
            "or set CHROMIUM_PATH."
        )
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_FLAGS}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def live_server(app):
    """The portal served over real HTTP on a free port, with the demo data seeded."""
    app.config["TESTING"] = False
    with app.app_context():
        # as `demo seed` does, without the replayed past (slow, and not what these journeys test)
        seed(local_today(app.config["DEFAULT_TIMEZONE"], utcnow()), history_days=0)
        db.session.commit()
        dispatch_due(utcnow, channels={Channel.PORTAL})  # as `demo seed` does
    server = make_server("127.0.0.1", _free_port(), app, threaded=True)
    # Track request threads so server_close() waits for them: none may still hold a database
    # connection when the app's connection pool is closed after the test.
    server.daemon_threads = False
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """A phone set to Chinese, as most of the portal's borrowers have."""
    return {**browser_context_args, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


def _move_seeded_messages_before(moment: datetime) -> None:
    """The live server seeds and sends the demo notices at the real time, which after 14:00 in
    Shanghai is later than the collector's frozen afternoon: move them to ``moment`` so the
    journey sees them in its past, as it would in a real day."""
    columns = ("created_at", "not_before", "claimed_at", "sent_at", "delivered_at", "read_at")
    for column in columns:
        field = getattr(Message, column)
        db.session.execute(update(Message).where(field > moment).values({column: moment}))
    db.session.execute(
        update(ContactDecisionRecord)
        .where(ContactDecisionRecord.decided_at > moment)
        .values(decided_at=moment)
    )
    db.session.commit()


@pytest.fixture
def collections_ran(app, live_server, monkeypatch):
    """The demo portfolio after today's collections run (no contacts), with the collector pages'
    clock at 14:00 in Shanghai today (after the seeded notices), inside every contact window."""
    today = local_today(app.config["DEFAULT_TIMEZONE"], utcnow())
    afternoon = datetime.combine(today, time(6, 0), tzinfo=UTC)
    with app.app_context():
        _move_seeded_messages_before(afternoon - timedelta(hours=1))
        report = run_collections(today, now=afternoon, contacts=False)
    assert report.cases_opened > 0
    freeze(monkeypatch, afternoon)
    return {"url": live_server, "today": today}
