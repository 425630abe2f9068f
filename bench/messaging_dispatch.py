"""Benchmark: delivering queued emails through the outbox dispatcher over real SMTP.

What is measured:

* dispatch: ``portal.messaging.dispatch.dispatch_due(clock, batch_size=500)`` until the outbox
  is empty: claim a batch, load the borrowers' facts, ask the contact-rules guard for every
  message, record each decision, render the email (text + HTML templates, MIME, the signed
  unsubscribe link), send it over one SMTP connection per batch, commit each message as sent.
* baseline: a plain ``smtplib`` loop over one connection calling ``send_message`` for the same
  N emails, built beforehand by the portal's own ``build_email`` (so the baseline pays the MIME
  serialisation and the SMTP round trips, but no rendering, guard or database).

Both send to the same SMTP sink, an aiosmtpd server in a separate process (so that it does not
compete for the GIL with the sender) that counts what it accepted. ``ratio`` is
dispatch messages/s divided by baseline messages/s; the target is >= 0.5.

Setup (not timed): N borrowers, each with one rendered email (purpose ``pre_due_reminder``,
half in Chinese, half in English) inserted straight into the outbox as ``queued`` with
``not_before`` an hour in the past. One email per borrower, like a day of reminders, so the
rulebook's default daily email cap (two) never defers one and the guard sees real per-borrower
facts. The clock is fixed at 11:00 in Asia/Shanghai, inside the contact window.

The run stops with an error if the dispatcher did not send every message, or the sink did not
count exactly N messages for each side.

Run: ``.venv/bin/python bench/messaging_dispatch.py [--messages N] [--database-url URL]
[--profile]``. PostgreSQL only in a database named ``bench`` or ``test_bench``, whose public
schema is dropped and recreated.
"""

from __future__ import annotations

import argparse
import cProfile
import multiprocessing
import pstats
import resource
import smtplib
import socket
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from io import StringIO
from multiprocessing.sharedctypes import Synchronized
from types import SimpleNamespace
from typing import Any

from _harness import (
    BenchError,
    add_database_option,
    count_option,
    dispose,
    emit,
    environment,
    migrated_app,
    prepare_database,
    progress,
    rate,
    ratio,
    run_main,
)
from flask import Flask
from sqlalchemy import func, insert, select

from portal.auth.models import BorrowerProfile, Channel, ContactPreference, Role, User
from portal.extensions import db
from portal.messaging.channels.email import build_email
from portal.messaging.default_templates import install_default_templates
from portal.messaging.dispatch import DispatchReport, dispatch_due
from portal.messaging.models import ContactKind, Message, MessageStatus
from portal.messaging.templates import latest_version, render

CLOCK = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai
BATCH_SIZE = 500
TARGET_RATIO = 0.5
SINK_HOST = "127.0.0.1"
CHUNK = 5_000
NAME_MARK = "\x00name\x00"


# --- The SMTP sink, in its own process ----------------------------------------------------


class CountingHandler:
    """Accepts every message and counts it; nothing is parsed or kept."""

    def __init__(self, counter: Synchronized) -> None:
        self.counter = counter

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802
        self.counter.value += 1  # the only writer: no lock needed
        return "250 OK"


def serve_sink(port: int, counter: Synchronized, ready, stop) -> None:
    from aiosmtpd.controller import Controller

    controller = Controller(CountingHandler(counter), hostname=SINK_HOST, port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


class Sink:
    """An aiosmtpd server in a child process; ``count`` is how many messages it accepted."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        with socket.socket() as probe:  # aiosmtpd cannot bind port 0 itself
            probe.bind((SINK_HOST, 0))
            self.port = probe.getsockname()[1]
        self._counter = context.Value("q", 0, lock=False)
        self._ready, self._stop = context.Event(), context.Event()
        self._process = context.Process(
            target=serve_sink,
            args=(self.port, self._counter, self._ready, self._stop),
            daemon=True,
        )

    def __enter__(self) -> Sink:
        self._process.start()
        if not self._ready.wait(30):
            raise BenchError("the SMTP sink did not start")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()

    @property
    def count(self) -> int:
        return int(self._counter.value)


# --- Database and data ----------------------------------------------------------------------


def _chunks(rows: list[dict[str, Any]]):
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


def _bulk(model: Any, rows: list[dict[str, Any]]) -> None:
    for chunk in _chunks(rows):
        db.session.execute(insert(model), chunk)


def queue_emails(count: int) -> list[dict[str, Any]]:
    """Create ``count`` borrowers with one queued, rendered email each; return the rows."""
    install_default_templates(now=CLOCK)
    rendered = {}
    for locale in ("zh_CN", "en"):
        version = latest_version("pre_due_reminder", Channel.EMAIL, locale)
        if version is None:
            raise BenchError("default email template missing")
        content = render(
            version,
            {
                "borrower_name": NAME_MARK,
                "portal_url": "https://settle.example",
                "loan_reference": "LN-B00001",
                "due_date": "2026-12-05",
                "amount_due": "¥512.30",
                "pay_url": "https://settle.example/pay",
            },
        )
        rendered[locale] = (version.id, content)
    users, profiles, preferences, messages = [], [], [], []
    for number in range(1, count + 1):
        locale = "zh_CN" if number % 2 else "en"
        name = f"王小明{number}" if locale == "zh_CN" else f"Borrower {number}"
        email = f"borrower{number}@bench.example"
        users.append(
            {
                "id": number,
                "email": email,
                "password_hash": "not-a-hash",
                "role": Role.BORROWER,
                "name": name,
                "locale": locale,
                "timezone": "Asia/Shanghai",
                "is_active_account": True,
                "created_at": CLOCK - timedelta(days=30),
            }
        )
        profiles.append({"user_id": number, "customer_number": f"C{number:08d}"})
        preferences.extend(
            {"borrower_id": number, "channel": channel, "allowed": True, "updated_at": CLOCK}
            for channel in Channel
        )
        version_id, content = rendered[locale]
        messages.append(
            {
                "idempotency_key": uuid.uuid4().hex,
                "borrower_id": number,
                "purpose": "pre_due_reminder",
                "kind": ContactKind.REMINDER,
                "channel": Channel.EMAIL,
                "locale": locale,
                "template_version_id": version_id,
                "recipient": email,
                "subject": content.subject,
                "body_text": content.body_text.replace(NAME_MARK, name),
                "body_html": None,
                "status": MessageStatus.QUEUED,
                "not_before": CLOCK - timedelta(hours=1),
                "attempts": 0,
                "created_at": CLOCK - timedelta(hours=1),
            }
        )
    _bulk(User, users)
    _bulk(BorrowerProfile, profiles)
    _bulk(ContactPreference, preferences)
    _bulk(Message, messages)
    db.session.commit()
    return messages


def build_baseline_emails(app: Flask, rows: list[dict[str, Any]]) -> list[EmailMessage]:
    """The same emails the dispatcher will send, built by the portal's own build_email()."""
    names = dict(db.session.execute(select(User.id, User.name)).all())
    emails = []
    for row in rows:
        message = Message(**row)
        emails.append(
            build_email(
                message, SimpleNamespace(name=names[row["borrower_id"]]), app.config["MAIL_FROM"]
            )
        )
        if len(emails) % 20_000 == 0 and len(emails) < len(rows):
            progress(f"built {len(emails)} baseline emails")
    return emails


# --- The two timed runs ---------------------------------------------------------------------


def plain_smtp(port: int, emails: list[EmailMessage]) -> float:
    """Send every email over one smtplib connection; returns the seconds it took."""
    started = time.perf_counter()
    with smtplib.SMTP(SINK_HOST, port, timeout=30) as smtp:
        for email in emails:
            smtp.send_message(email)
    return time.perf_counter() - started


def dispatch_all(expected: int, profile: bool) -> tuple[float, DispatchReport]:
    """Run dispatch_due until the outbox is empty (4 batches per call, for progress lines)."""
    total = DispatchReport()
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    while True:
        if profiler:
            profiler.enable()
        report = dispatch_due(lambda: CLOCK, batch_size=BATCH_SIZE, max_batches=4)
        if profiler:
            profiler.disable()
        total.add(report)
        if report.claimed == 0:
            break
        elapsed = time.perf_counter() - started
        progress(f"dispatched {total.sent}/{expected} ({rate(total.sent, elapsed)}/s)")
    seconds = time.perf_counter() - started
    if profiler:
        for order in ("cumulative", "tottime"):
            out = StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(35)
            progress(f"profile of dispatch (by {order}):\n" + out.getvalue())
    return seconds, total


def benchmark(args: argparse.Namespace) -> int:
    count = args.messages
    with tempfile.TemporaryDirectory(prefix="settle-bench-") as temp_dir:
        url = prepare_database(args.database_url, temp_dir)
        with Sink() as sink:
            app = migrated_app(url)
            app.config.update(
                SMTP_HOST=SINK_HOST,
                SMTP_PORT=sink.port,
                SMTP_STARTTLS=False,
                SMTP_USERNAME="",
                PUBLIC_URL="https://settle.example",
            )
            try:
                with app.app_context():
                    started = time.perf_counter()
                    rows = queue_emails(count)
                    progress(f"queued {count} emails in {time.perf_counter() - started:.1f} s")
                    emails = build_baseline_emails(app, rows)
                    del rows
                    progress(f"built {count} baseline emails")

                    before = sink.count
                    plain_seconds = plain_smtp(sink.port, emails)
                    if sink.count - before != count:
                        raise BenchError(f"sink counted {sink.count - before} of {count} (plain)")
                    progress(f"plain smtplib: {count} in {plain_seconds:.1f} s")
                    del emails

                    before = sink.count
                    dispatch_seconds, report = dispatch_all(count, args.profile)
                    sent_rows = db.session.scalar(
                        select(func.count()).where(Message.status == MessageStatus.SENT)
                    )
                    if report.sent != count or sent_rows != count:
                        raise BenchError(
                            f"dispatch sent {report.sent} ({sent_rows} rows) of {count}"
                        )
                    if sink.count - before != count:
                        raise BenchError(
                            f"sink counted {sink.count - before} of {count} (dispatch)"
                        )
            finally:
                dispose(app)
    dispatch_rate, plain_rate = rate(count, dispatch_seconds), rate(count, plain_seconds)
    result = {
        "benchmark": "messaging_dispatch",
        "messages": count,
        "batch_size": BATCH_SIZE,
        "dispatch_per_s": dispatch_rate,
        "dispatch_seconds": round(dispatch_seconds, 2),
        "plain_smtp_per_s": plain_rate,
        "plain_smtp_seconds": round(plain_seconds, 2),
        "ratio_dispatch_to_plain": ratio(dispatch_rate, plain_rate),
        "target_ratio": TARGET_RATIO,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        **environment(url),
    }
    emit(
        result,
        f"dispatch {dispatch_rate}/s vs plain smtplib {plain_rate}/s: ratio "
        f"{result['ratio_dispatch_to_plain']} (target >= {TARGET_RATIO})",
    )
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--messages", type=count_option(), default=100_000, help="emails to send (each side)"
    )
    add_database_option(parser)
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the dispatch; print to stderr"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_main(lambda: benchmark(args))


if __name__ == "__main__":
    raise SystemExit(main())
