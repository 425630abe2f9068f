"""Benchmark: the borrower dashboard (GET /) against the bare SQL it needs.

What is measured: a signed-in borrower (borrower@demo.test, two loans) loads the dashboard N
times through the Flask test client, in a demo portfolio of ``--borrowers`` other borrowers
seeded around a fixed date. Each request goes through the whole stack except the network:
session cookie, Flask-Login user loader, idle-timeout hook, locale selection, the loan queries
(``loans_of_borrower``: loans joined to their installments), ``loan_position`` for every
loan, and the Jinja template with Babel money and date formatting. Every response must be 200
and show the loan reference LN-DEMO-0001.

Baseline, in the same run and on the same engine: one Core SELECT of the borrower's loans
joined to their installments (the same columns the ORM loads), on a connection checked out of
the same pool, N times (so both sides pay the pool's pre-ping and reset-on-return). That is
the least database work the page can do, so ``page_time / baseline_time`` is the price of
everything the portal adds on top of its data: extra round trips (the user row, a second query
for installments), ORM identity-map work, Python computations, rendering, and the test
client's WSGI plumbing. Page and baseline alternate request by request so that both see the
same machine conditions.

The JSON also counts the SQL statements one dashboard request issues (a SQLAlchemy
``before_cursor_execute`` listener, attached only for a separate counting pass so the timed
loops run uninstrumented); a growing count is the first sign of an N+1 query.

Run: ``.venv/bin/python bench/borrower_dashboard.py [--database-url URL] [--requests N]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from datetime import date
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
from flask.testing import FlaskClient
from sqlalchemy import Engine, Select, event, select

from portal.auth.services import user_by_email
from portal.demo import DEMO_PASSWORD, seed
from portal.extensions import db
from portal.loans.models import Installment, Loan

DEMO_EMAIL = "borrower@demo.test"
LOAN_REFERENCE = "LN-DEMO-0001"
SEED_TODAY = date(2026, 11, 28)  # fixed: the same portfolio on every run
COUNTING_REQUESTS = 5


@dataclass
class Timings:
    page_seconds: list[float]
    baseline_seconds: list[float]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_database_option(parser)
    parser.add_argument(
        "--requests",
        type=count_option(),
        default=500,
        help="timed dashboard requests, and as many baseline queries",
    )
    parser.add_argument(
        "--borrowers",
        type=count_option(0, 20_000),
        default=200,
        help="extra demo borrowers seeded besides borrower@demo.test",
    )
    parser.add_argument(
        "--warmup",
        type=count_option(0),
        default=20,
        help="untimed requests and queries first (template compile, caches)",
    )
    return parser.parse_args(argv)


def seed_portfolio(app: Flask, borrowers: int) -> int:
    """Seed the demo data and return the demo borrower's user id."""
    started = time.perf_counter()
    with app.app_context():
        result = seed(SEED_TODAY, borrowers=borrowers, history_days=0)  # no replayed past
        db.session.commit()
        user = user_by_email(DEMO_EMAIL)
        if user is None:
            raise BenchError(f"portal.demo.seed did not create {DEMO_EMAIL}")
        borrower_id = user.id
    progress(
        f"seeded {result.users_created} users, {result.loans_created} loans, "
        f"{result.payments_created} payments in {time.perf_counter() - started:.2f} s"
    )
    return borrower_id


def signed_in_client(app: Flask) -> FlaskClient:
    """A test client with the demo borrower's session cookie."""
    client = app.test_client()
    response = client.post("/login", data={"email": DEMO_EMAIL, "password": DEMO_PASSWORD})
    if response.status_code != 302 or response.headers.get("Location") != "/":
        raise BenchError(f"sign-in failed: {response.status_code} {response.location!r}")
    return client


def get_dashboard(client: FlaskClient) -> None:
    """One dashboard request; a wrong answer stops the benchmark (fast but wrong is no result)."""
    response = client.get("/")
    if response.status_code != 200 or LOAN_REFERENCE.encode() not in response.data:
        raise BenchError(f"GET / returned {response.status_code} without {LOAN_REFERENCE}")


def baseline_statement(borrower_id: int) -> Select:
    """The borrower's loans joined to their installments: the data the dashboard shows."""
    loan, installment = Loan.__table__, Installment.__table__
    return (
        select(loan, installment)
        .join(installment, installment.c.loan_id == loan.c.id)
        .where(loan.c.borrower_id == borrower_id)
        .order_by(loan.c.disbursed_on.desc(), loan.c.id.desc(), installment.c.sequence)
    )


def run_baseline(engine: Engine, statement: Select) -> int:
    """One baseline query on a pooled connection, as a request would get; returns the rows."""
    with engine.connect() as connection:
        return len(connection.execute(statement).all())


def engine_of(app: Flask) -> Engine:
    with app.app_context():
        return db.engine


def count_statements(engine: Engine, client: FlaskClient, requests: int) -> list[int]:
    """SQL statements sent by each of ``requests`` dashboard requests."""
    counter = [0]

    def on_execute(*_args: Any) -> None:
        counter[0] += 1

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        counts = []
        for _ in range(requests):
            counter[0] = 0
            get_dashboard(client)
            counts.append(counter[0])
        return counts
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)


def measure(
    client: FlaskClient,
    engine: Engine,
    statement: Select,
    rounds: int,
    expected_rows: int,
    label: str | None = None,
) -> Timings:
    """Alternate one dashboard request and one baseline query, ``rounds`` times."""
    timings = Timings([], [])
    clock = time.perf_counter
    for number in range(1, rounds + 1):
        started = clock()
        get_dashboard(client)
        middle = clock()
        rows = run_baseline(engine, statement)
        ended = clock()
        if rows != expected_rows:
            raise BenchError(f"baseline returned {rows} rows, expected {expected_rows}")
        timings.page_seconds.append(middle - started)
        timings.baseline_seconds.append(ended - middle)
        if label is not None and number % max(1, rounds // 5) == 0:
            progress(f"{label}: {number}/{rounds} requests")
    return timings


def percentile_ms(seconds: list[float], fraction: float) -> float:
    ordered = sorted(seconds)
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000, 3)


def result_of(
    args: argparse.Namespace, timings: Timings, statements: list[int], rows: int
) -> dict[str, Any]:
    page, baseline = sum(timings.page_seconds), sum(timings.baseline_seconds)
    n = args.requests
    return {
        "benchmark": "borrower_dashboard",
        "requests": n,
        "borrowers_seeded": args.borrowers,
        "requests_per_s": rate(n, page),
        "page_mean_ms": round(page / n * 1000, 3),
        "page_p50_ms": percentile_ms(timings.page_seconds, 0.5),
        "page_p95_ms": percentile_ms(timings.page_seconds, 0.95),
        "baseline_queries_per_s": rate(n, baseline),
        "baseline_mean_ms": round(baseline / n * 1000, 3),
        "baseline_rows_per_query": rows,
        "ratio_page_to_baseline": ratio(page, baseline),
        "sql_statements_per_request": round(sum(statements) / len(statements), 2),
        "sql_statements_min_max": [min(statements), max(statements)],
    }


def summary_of(result: dict[str, Any]) -> str:
    return (
        f"borrower dashboard on {result['dialect']}: {result['requests_per_s']:.0f} req/s "
        f"({result['page_mean_ms']:.2f} ms mean, p95 {result['page_p95_ms']:.2f} ms), "
        f"{result['sql_statements_per_request']:g} SQL statements per request; bare SQL "
        f"baseline {result['baseline_queries_per_s']:.0f} queries/s "
        f"({result['baseline_mean_ms']:.3f} ms): the page costs "
        f"{result['ratio_page_to_baseline']:.1f}x its data"
    )


def benchmark(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="settle-bench-") as temp_dir:
        url = prepare_database(args.database_url, temp_dir)
        app = migrated_app(url)
        try:
            borrower_id = seed_portfolio(app, args.borrowers)
            # Requests run outside any app context, as in production: each gets a fresh
            # session (an outer context would share one identity map across requests).
            client = signed_in_client(app)
            engine = engine_of(app)
            statement = baseline_statement(borrower_id)
            rows = run_baseline(engine, statement)
            if rows == 0:
                raise BenchError("baseline query found no installments for the demo borrower")
            measure(client, engine, statement, args.warmup, rows)
            statements = count_statements(engine, client, COUNTING_REQUESTS)
            timings = measure(client, engine, statement, args.requests, rows, "timed")
        finally:
            dispose(app)
    result = environment(url) | result_of(args, timings, statements, rows)
    emit(result, summary_of(result))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_main(lambda: benchmark(args))


if __name__ == "__main__":
    raise SystemExit(main())
