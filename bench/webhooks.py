"""Benchmark: signed Stripe ``payment_intent.succeeded`` events booked end to end, per second.

What is measured: ``POST /webhooks/stripe`` on the portal served as in production (gunicorn
``-k gthread -w 1 --threads 100``, PostgreSQL by default), each request a distinct signed event
for a distinct open payment attempt: the signature checked by ``stripe.Webhook.construct_event``,
the event stored once, the attempt row locked, the payment booked through the ledger's waterfall
(loan row lock, installments, allocations), and the effects on the collection case. Every event
must answer 200 with the outcome ``booked``, and the ledger must hold exactly one payment per
event at the end: a fast but wrong run is no result.

Baseline, in the SAME server process: ``POST /bench/verify-only``, a route added by this script
that only checks the same signatures with ``stripe.Webhook.construct_event`` and answers 200:
the least work any webhook endpoint must do. ``ratio`` is booked events/s divided by
verify-only requests/s; the target is >= 0.5. ``cpu_ratio`` is the same comparison made from
the server process's CPU time per request (verify-only / portal), which other load on the
machine disturbs far less than throughput (the database's CPU is not in it).

Setup (not timed): ``--events`` borrowers, each with one loan whose first installment is
overdue, a collections run (so each loan has an open case), and one open payment attempt per
loan for that installment. The load is ``--connections`` asyncio keep-alive clients on loopback
sending the pre-signed events, each exactly once; signatures are made just before each phase
(Stripe's tolerance is 5 minutes).

Run: ``.venv/bin/python bench/webhooks.py [--events N] [--connections C] [--database-url URL]``.
PostgreSQL only in a database named ``bench`` or ``test_bench`` (its public schema is dropped);
default ``postgresql://root@127.0.0.1:5432/bench``, created if missing.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import secrets
import sys
import tempfile
import time
from datetime import UTC, date, datetime
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
from _servers import start_gunicorn
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_PG = "postgresql://root@127.0.0.1:5432/bench"
SECRET = "whsec_bench_" + "0" * 24
AS_OF = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)

# The portal's WSGI app plus the baseline route, in one module gunicorn imports.
APP_MODULE = """
import stripe
from flask import request

from portal.extensions import csrf
from wsgi import app


@csrf.exempt
def verify_only():
    stripe.Webhook.construct_event(
        request.get_data(), request.headers["Stripe-Signature"], app.config["STRIPE_WEBHOOK_SECRET"]
    )
    return {"received": True}


app.add_url_rule("/bench/verify-only", view_func=verify_only, methods=["POST"])
"""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=count_option(10, 100_000), default=3_000)
    parser.add_argument("--connections", type=count_option(1, 200), default=16)
    add_database_option(parser)
    return parser.parse_args(argv)


def _ensure_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return
    admin = create_engine(
        parsed.set(drivername="postgresql+psycopg", database="postgres"),
        poolclass=NullPool,
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": parsed.database}
        )
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def seed(app, events: int) -> list[str]:
    """``events`` overdue loans with an open case and an open attempt each; their intent ids."""
    from portal.auth.models import BorrowerProfile, Role, User
    from portal.collections.run import run_collections
    from portal.extensions import db
    from portal.loans.models import LoanProduct
    from portal.loans.services import create_loan
    from portal.payments.models import AttemptStatus, PaymentAttempt, PayOption, Provider

    started = time.perf_counter()
    intents = []
    with app.app_context():
        for number in range(events):
            user = User(
                email=f"bench{number}@example.com",
                password_hash="!",
                role=Role.BORROWER,
                name=f"Borrower {number}",
                timezone="Asia/Shanghai",
            )
            db.session.add(user)
            db.session.flush()
            db.session.add(BorrowerProfile(user_id=user.id, customer_number=f"C{number:08d}"))
            loan = create_loan(
                borrower_id=user.id,
                reference=f"LN-B{number:07d}",
                product=LoanProduct.WALLET_CASH,
                principal_minor=300_000,
                annual_rate_bps=2400,
                fee_minor=3_000,
                currency="CNY",
                disbursed_on=date(2026, 9, 1),
                terms=6,
            )
            first = loan.installments[0]
            intent_id = f"pi_bench_{number:07d}"
            db.session.add(
                PaymentAttempt(
                    borrower_id=user.id,
                    loan_id=loan.id,
                    option=PayOption.OVERDUE,
                    amount_minor=first.outstanding,
                    currency="CNY",
                    provider=Provider.STRIPE,
                    idempotency_key=f"bench-{number}",
                    intent_id=intent_id,
                    status=AttemptStatus.OPEN,
                )
            )
            intents.append((intent_id, first.outstanding))
            if number % 500 == 499:
                db.session.commit()
                progress(f"seeded {number + 1}/{events} loans")
        db.session.commit()
        report = run_collections(AS_OF, now=NOW, contacts=False)
        progress(f"collections run: {report.cases_opened} cases opened")
    progress(f"seeded in {time.perf_counter() - started:.1f} s")
    return [_event(intent_id, amount, number) for number, (intent_id, amount) in enumerate(intents)]


def _event(intent_id: str, amount: int, number: int) -> str:
    return json.dumps(
        {
            "id": f"evt_bench_{number:07d}",
            "object": "event",
            "type": "payment_intent.succeeded",
            "created": int(NOW.timestamp()),
            "data": {
                "object": {
                    "id": intent_id,
                    "object": "payment_intent",
                    "amount": amount,
                    "amount_received": amount,
                    "currency": "cny",
                    "created": int(NOW.timestamp()),
                    "status": "succeeded",
                    "payment_method_types": ["card"],
                }
            },
        }
    )


def signed_requests(path: str, bodies: list[str], port: int) -> list[bytes]:
    """Raw HTTP/1.1 requests, each signed now as Stripe would (``t=TS,v1=HMAC``)."""
    timestamp = int(time.time())
    requests = []
    for body in bodies:
        payload = body.encode()
        mac = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
            f"Stripe-Signature: t={timestamp},v1={mac.hexdigest()}\r\n\r\n"
        )
        requests.append(head.encode("latin-1") + payload)
    return requests


async def _send_all(port: int, requests: list[bytes], connections: int) -> dict[str, Any]:
    """Each request exactly once, over ``connections`` keep-alive connections."""
    queue = list(reversed(requests))
    statuses: dict[int, int] = {}
    outcomes: dict[str, int] = {}
    latencies: list[float] = []

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while queue:
                request = queue.pop()
                sent = time.perf_counter()
                writer.write(request)
                status_line = await reader.readline()
                status = int(status_line.split()[1])
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                body = await reader.readexactly(length)
                latencies.append(time.perf_counter() - sent)
                statuses[status] = statuses.get(status, 0) + 1
                outcome = json.loads(body).get("outcome", "") if status == 200 else ""
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    seconds = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "requests": len(latencies),
        "seconds": round(seconds, 3),
        "per_s": rate(len(latencies), seconds),
        "p50_ms": round(ordered[len(ordered) // 2] * 1000, 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000, 2),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "outcomes": outcomes,
    }


def _phase(server, path: str, bodies: list[str], connections: int) -> dict[str, Any]:
    """Send every body once to ``path``; with the server's CPU time per request, which (unlike
    requests/s) barely moves when other work shares the machine."""
    requests = signed_requests(path, bodies, server.port)
    cpu_before = server.cpu_seconds()
    figures = asyncio.run(_send_all(server.port, requests, connections))
    cpu = server.cpu_seconds() - cpu_before
    figures["server_cpu_ms_per_request"] = round(cpu * 1000 / len(bodies), 3)
    return figures


def benchmark(args: argparse.Namespace) -> int:
    database_url = args.database_url or DEFAULT_PG
    _ensure_database(database_url)
    with tempfile.TemporaryDirectory(prefix="settle-bench-") as temp_dir:
        url: URL = prepare_database(database_url, temp_dir)
        app = migrated_app(url)
        bodies = seed(app, args.events)
        dispose(app)
        with open(os.path.join(temp_dir, "bench_webhook_app.py"), "w", encoding="utf-8") as f:
            f.write(APP_MODULE)
        env = dict(os.environ)
        env.update(
            DATABASE_URL=url.render_as_string(hide_password=False),
            SECRET_KEY=secrets.token_hex(32),
            PORTAL_ENV="development",
            REDIS_URL="",
            IN_PROCESS_WORKER="0",  # no background work competing with the timed requests
            STRIPE_WEBHOOK_SECRET=SECRET,
            PYTHONPATH=os.pathsep.join([temp_dir, ROOT]),
        )
        with start_gunicorn("bench_webhook_app:app", ROOT, env, "/healthz") as server:
            progress(f"baseline: {len(bodies)} signature checks")
            baseline = _phase(server, "/bench/verify-only", bodies, args.connections)
            progress(f"portal: {len(bodies)} events booked end to end")
            portal = _phase(server, "/webhooks/stripe", bodies, args.connections)
        _check(app, portal, args.events)
        dispose(app)
        result = {
            "benchmark": "webhooks",
            "events": args.events,
            "connections": args.connections,
            "server": "gunicorn -k gthread -w 1 --threads 100 --no-control-socket",
            "portal": portal,
            "baseline_verify_only": baseline,
            "ratio": ratio(portal["per_s"], baseline["per_s"]),
            # verify-only CPU / portal CPU per request: the same ratio, from CPU time alone
            "cpu_ratio": ratio(
                baseline["server_cpu_ms_per_request"], portal["server_cpu_ms_per_request"]
            ),
            "target_ratio": 0.5,
            "environment": environment(url),
        }
        emit(
            result,
            f"webhooks: {portal['per_s']} events/s booked (p99 {portal['p99_ms']} ms) vs "
            f"{baseline['per_s']} signature checks/s: ratio {result['ratio']} (target >= 0.5); "
            f"server CPU per request {portal['server_cpu_ms_per_request']} ms vs "
            f"{baseline['server_cpu_ms_per_request']} ms: cpu ratio {result['cpu_ratio']}",
        )
    return 0


def _check(app, portal: dict[str, Any], events: int) -> None:
    from portal.extensions import db
    from portal.loans.models import Payment

    if portal["outcomes"] != {"booked": events}:
        raise BenchError(f"not every event was booked once: {portal['outcomes']}")
    with app.app_context():
        booked = db.session.scalar(select(func.count()).select_from(Payment))
    if booked != events:
        raise BenchError(f"{booked} payments in the ledger for {events} events")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_main(lambda: benchmark(args))


if __name__ == "__main__":
    sys.exit(main())
