"""Benchmark: the daily collections run over a large portfolio, against one bare SQL query.

What is measured: ``portal.collections.run.run_collections(as_of, now=..., contacts=False)``
on a generated portfolio of ``--loans`` loans (default 100,000; up to 1,000,000):

- ``first``: the first run ever, on AS_OF: every overdue loan gets a case (the heaviest run:
  hundreds of thousands of cases and transitions written and assigned).
- ``daily``: the next day, after 5% of the open cases paid up, promises were recorded on 2% of
  them and a VACUUM ANALYZE stood in for what autovacuum does over a day: cures, new cases,
  stage moves, promises kept and broken: the steady-state run.
- ``rerun``: the same day again, which must change nothing (the idempotency path).

Late charges are accrued by the run (its first step, ``portal.loans.charges.accrual``) under a
policy saved for every product before the first run: a 5 % late fee after 3 grace days and
penalty interest of 5 bps a day, capped at 24 % a year; ``--no-late-charges`` keeps the default
policy (which charges nothing), to compare.

Contacts are NOT part of these figures (``contacts=False``): they are per-message work (render,
guard, outbox) done in batches only for the cases due a contact that day; the messaging
benchmark (bench/messaging_dispatch.py) measures that path.

Baseline, in the same process on the same database: ONE plain SQL query computing each loan's
oldest unpaid due date and overdue amount (``GROUP BY installment.loan_id`` over the unpaid
installments due before the date), every row fetched into Python; the median of three. It is
the least work any daily run must do (find who is overdue and by how much), so ``run /
baseline`` is the price of everything the run adds: the positions table, buckets, stages, case
rows and their transitions, cures, promises, assignment. Before each run an untimed
``count(*)`` over the baseline query warms the cache for both sides.

Each result is checked against its baseline (the open cases are exactly the baseline's loans,
with the same overdue total): a fast but wrong run is no result.

Memory: ``ru_maxrss`` (the process's peak resident set) after generation, after the first run
(before any baseline result is fetched) and at the end (the baseline's fully fetched result
included); and the ``tracemalloc`` peak of Python allocations during each run (tracing is on
only around the runs, whose work is in the database).

The portfolio is generated inside the database with set-based INSERT ... SELECT statements over
a numbers table (no Python loop over loans): borrowers (user + profile; no contact preferences,
which only contacts read), loans with 3/6/9/12 monthly installments disbursed up to a month
more than their term before AS_OF (due dates from ``portal.loans.schedule.add_months``, so
month ends clamp as in the portal), one payment per paid installment (no allocation rows: the
run never reads them), and a mix of behaviours: about 60% of active loans current (1 in 10 of
them with the next installment part-prepaid), 3% paid off, the rest 0 to 11 installments
behind, a quarter of those with the oldest missed installment partly paid. The realised bucket
and stage mix is in the JSON.

Run: ``.venv/bin/python bench/collections_run.py [--loans N] [--database-url URL]``.
PostgreSQL only in a database named ``bench`` or ``test_bench`` (its public schema is dropped).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
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
from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    cast,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)

from portal.auth.models import BorrowerProfile, Role, User
from portal.auth.services import create_user
from portal.collections.models import CaseStatus, CollectionCase, PromiseToPay
from portal.collections.run import RunReport, run_collections
from portal.dbtypes import UTCDateTime
from portal.extensions import db
from portal.loans.allocation import DEFAULT_WATERFALL
from portal.loans.charges.models import ChargePolicy, LateFeeKind
from portal.loans.models import Installment, Loan, LoanProduct, Payment
from portal.loans.schedule import add_months

AS_OF = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai on AS_OF
MAX_AGE_DAYS = 540  # loans are disbursed 1..540 days before AS_OF
TERMS = (3, 6, 9, 12)
CURRENT, PAID_OFF = 52, 55  # behaviour classes out of 100 (see fill_loan_shapes)
COLLECTORS = 20
NO_PASSWORD = "bench-not-a-hash"  # noqa: S105 - no account here can sign in: not an argon2 hash
SEQ_CHUNK = 50_000
HASH_PRIME = 4_294_967_291  # the largest prime below 2**32: products stay inside BIGINT
BASELINE_ROUNDS = 3
TARGET_SECONDS_1M = 60.0
TARGET_RATIO = 5.0
TARGET_RSS_MB = 500.0

helpers = MetaData()
bench_seq = Table("bench_seq", helpers, Column("n", Integer, primary_key=True))
# Due dates for a loan disbursed d days before AS_OF, installment by installment.
bench_calendar = Table(
    "bench_calendar",
    helpers,
    Column("d", Integer, primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("disbursed_on", Date, nullable=False),
    Column("due_date", Date, nullable=False),
    # When its payment arrived: noon in Shanghai on the due date, never after the day before AS_OF.
    Column("paid_at", UTCDateTime, nullable=False),
)
# How many installments of a (d, terms) loan are due before AS_OF.
bench_due_count = Table(
    "bench_due_count",
    helpers,
    Column("d", Integer, primary_key=True),
    Column("terms", Integer, primary_key=True),
    Column("n_due", Integer, nullable=False),
)
# Each generated loan's shape: age, terms, how many installments are paid, part-payment.
bench_loan = Table(
    "bench_loan",
    helpers,
    Column("n", Integer, primary_key=True),
    Column("borrower", Integer, nullable=False),
    Column("d", Integer, nullable=False),
    Column("terms", Integer, nullable=False),
    Column("paid_through", Integer, nullable=False),
    Column("partial", Integer, nullable=False),
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_database_option(parser)
    parser.add_argument(
        "--loans", type=count_option(100), default=100_000, help="loans to generate"
    )
    parser.add_argument(
        "--no-late-charges",
        dest="late_charges",
        action="store_false",
        help="run with the default charge policy (no late fee, no penalty interest)",
    )
    return parser.parse_args(argv)


# --- Database ------------------------------------------------------------------------------


def on_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def step(label: str, work: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    result = work()
    db.session.commit()
    progress(f"{label} in {time.perf_counter() - started:.1f} s")
    return result


# --- Generation ----------------------------------------------------------------------------


def fill_numbers(count: int) -> None:
    for start in range(1, count + 1, SEQ_CHUNK):
        stop = min(start + SEQ_CHUNK, count + 1)
        db.session.execute(insert(bench_seq), [{"n": n} for n in range(start, stop)])


def fill_calendar() -> None:
    calendar_rows, count_rows = [], []
    for d in range(1, MAX_AGE_DAYS + 1):
        disbursed = AS_OF - timedelta(days=d)
        dues = [add_months(disbursed, seq) for seq in range(1, max(TERMS) + 1)]
        calendar_rows += [
            {
                "d": d,
                "seq": seq,
                "disbursed_on": disbursed,
                "due_date": due,
                "paid_at": min(
                    datetime(due.year, due.month, due.day, 4, tzinfo=UTC),
                    NOW - timedelta(days=1),
                ),
            }
            for seq, due in enumerate(dues, start=1)
        ]
        count_rows += [
            {"d": d, "terms": terms, "n_due": sum(due < AS_OF for due in dues[:terms])}
            for terms in TERMS
        ]
    db.session.execute(insert(bench_calendar), calendar_rows)
    db.session.execute(insert(bench_due_count), count_rows)


def hashed(column, multiplier: int, modulus: int):
    """A deterministic spread of ``column`` over 0..modulus-1 (portable integer arithmetic).

    Reducing modulo a large prime first keeps attributes drawn with different multipliers from
    lining up with each other or with ``column % k`` (which the between-days step selects on).
    """
    product = cast(column, BigInteger) * literal(multiplier, BigInteger)
    return cast((product % literal(HASH_PRIME, BigInteger)) % modulus, Integer)


def fill_loan_shapes(loans: int, borrowers: int) -> None:
    n = bench_seq.c.n
    shape = (
        select(
            n.label("n"),
            (1 + (n - 1) % borrowers).label("borrower"),
            (3 * (1 + hashed(n, 104_729, len(TERMS)))).label("terms"),
            hashed(n, 2_654_435_761, 100).label("klass"),
            hashed(n, 40_503, MAX_AGE_DAYS).label("age"),
        )
        .where(n <= loans)
        .subquery()
    )
    # Most loans are still running: disbursed up to one month more than their term ago.
    shape = select(
        *[shape.c[name] for name in ("n", "borrower", "terms", "klass")],
        (1 + shape.c.age % (30 * shape.c.terms + 30)).label("d"),
    ).subquery()
    due = bench_due_count.c.n_due
    klass = shape.c.klass  # behaviour: < CURRENT current, < PAID_OFF paid off, else behind
    behind = case(  # installments missed (the youngest loans have fewer to miss)
        (klass < 72, 0),
        (klass < 82, 1),
        (klass < 88, 2),
        (klass < 95, 3 + shape.c.n % 3),
        else_=6 + shape.c.n % 6,
    )
    paid_through = case(
        (klass < CURRENT, due),
        (klass < PAID_OFF, shape.c.terms),
        (due - 1 - behind < 0, 0),
        else_=due - 1 - behind,
    )
    partial = case(
        (and_(klass < CURRENT, shape.c.n % 10 == 0), 1),  # next installment part-prepaid
        (and_(klass >= PAID_OFF, shape.c.n % 4 == 0), 1),  # oldest missed one part-paid
        else_=0,
    )
    db.session.execute(
        insert(bench_loan).from_select(
            ["n", "borrower", "d", "terms", "paid_through", "partial"],
            select(
                shape.c.n, shape.c.borrower, shape.c.d, shape.c.terms, paid_through, partial
            ).join(
                bench_due_count,
                and_(bench_due_count.c.d == shape.c.d, bench_due_count.c.terms == shape.c.terms),
            ),
        )
    )


def fill_borrowers(borrowers: int) -> None:
    n = bench_seq.c.n
    as_text = cast(n, String)
    db.session.execute(
        insert(User.__table__).from_select(
            ["id", "email", "password_hash", "role", "name", "timezone", "is_active_account"]
            + ["created_at"],
            select(
                n,
                literal("b") + as_text + literal("@bench.test"),
                literal(NO_PASSWORD),
                literal(Role.BORROWER.value),
                literal("Borrower ") + as_text,
                literal("Asia/Shanghai"),
                literal(True),
                literal(NOW, UTCDateTime),
            ).where(n <= borrowers),
        )
    )
    db.session.execute(
        insert(BorrowerProfile.__table__).from_select(
            ["user_id", "customer_number", "cease_contact"],
            select(n, literal("C") + as_text, literal(False)).where(n <= borrowers),
        )
    )


def fill_loans() -> None:
    b, cal = bench_loan, bench_calendar
    db.session.execute(
        insert(Loan.__table__).from_select(
            ["id", "reference", "borrower_id", "product", "principal_minor", "interest_rate_bps"]
            + ["fees_minor", "currency", "disbursed_on", "status", "created_at"],
            select(
                b.c.n,
                literal("LN-B") + cast(b.c.n, String),
                b.c.borrower,
                literal("wallet_cash"),
                b.c.terms * 20_000 * (1 + b.c.n % 10),
                literal(1800),
                literal(2_000),
                literal("CNY"),
                cal.c.disbursed_on,
                case((b.c.paid_through >= b.c.terms, "paid_off"), else_="active"),
                literal(NOW, UTCDateTime),
            ).join(cal, and_(cal.c.d == b.c.d, cal.c.seq == 1)),
        )
    )


def fill_installments() -> None:
    b, cal = bench_loan, bench_calendar
    principal = 20_000 * (1 + b.c.n % 10)
    interest = (b.c.terms - cal.c.seq + 1) * 500
    fee = case((cal.c.seq == 1, 2_000), else_=0)
    paid = cal.c.seq <= b.c.paid_through
    part = and_(b.c.partial == 1, cal.c.seq == b.c.paid_through + 1)
    db.session.execute(
        insert(Installment.__table__).from_select(
            ["loan_id", "sequence", "due_date", "principal_due", "interest_due", "fee_due"]
            + ["principal_paid", "interest_paid", "fee_paid"],
            select(
                b.c.n,
                cal.c.seq,
                cal.c.due_date,
                principal,
                interest,
                fee,
                case((paid, principal), (part, principal // 2), else_=0),
                case((or_(paid, part), interest), else_=0),
                case((or_(paid, part), fee), else_=0),
            ).join(cal, and_(cal.c.d == b.c.d, cal.c.seq <= b.c.terms)),
        )
    )


def fill_payments() -> None:
    """One payment per paid or part-paid installment (the ledger's allocations are left out:
    the run never reads them)."""
    b, cal = bench_loan, bench_calendar
    principal = 20_000 * (1 + b.c.n % 10)
    interest = (b.c.terms - cal.c.seq + 1) * 500
    fee = case((cal.c.seq == 1, 2_000), else_=0)
    part = cal.c.seq == b.c.paid_through + 1
    db.session.execute(
        insert(Payment.__table__).from_select(
            ["loan_id", "amount_minor", "currency", "method", "received_at", "created_at"],
            select(
                b.c.n,
                case((part, principal // 2), else_=principal) + interest + fee,
                literal("CNY"),
                literal("alipay"),
                cal.c.paid_at,
                cal.c.paid_at,
            ).join(
                cal,
                and_(
                    cal.c.d == b.c.d,
                    cal.c.seq <= b.c.terms,
                    or_(cal.c.seq <= b.c.paid_through, and_(b.c.partial == 1, part)),
                ),
            ),
        )
    )


def add_collectors() -> None:
    if on_postgres():
        for table in ("user_account", "loan"):
            db.session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
                )
            )
    for number in range(1, COLLECTORS + 1):
        create_user(
            email=f"collector{number}@bench.test",
            password_hash=NO_PASSWORD,
            role=Role.COLLECTOR,
            name=f"Collector {number}",
            timezone="Asia/Shanghai",
        )


def analyze() -> None:
    """Fresh statistics (and, on PostgreSQL, a visibility map), as autovacuum would leave them."""
    db.session.commit()
    if on_postgres():
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def generate(app: Flask, loans: int) -> dict[str, Any]:
    borrowers = max(1, loans * 2 // 3)  # some borrowers have two loans
    started = time.perf_counter()
    with app.app_context():
        helpers.create_all(db.engine)
        step(f"numbers 1..{max(loans, borrowers)}", lambda: fill_numbers(max(loans, borrowers)))
        step("calendar", fill_calendar)
        step("loan shapes", lambda: fill_loan_shapes(loans, borrowers))
        step(f"{borrowers} borrowers", lambda: fill_borrowers(borrowers))
        step(f"{loans} loans", fill_loans)
        step("installments", fill_installments)
        step("payments", fill_payments)
        step(f"{COLLECTORS} collectors", add_collectors)
        helpers.drop_all(db.engine)
        installments = db.session.scalar(select(func.count()).select_from(Installment))
        payments = db.session.scalar(select(func.count()).select_from(Payment))
        step("vacuum/analyze", analyze)
    seconds = time.perf_counter() - started
    progress(
        f"generated {loans} loans, {installments} installments, {payments} payments in "
        f"{seconds:.1f} s"
    )
    return {
        "loans": loans,
        "borrowers": borrowers,
        "installments": installments,
        "payments": payments,
        "generate_seconds": round(seconds, 1),
    }


def between_days() -> None:
    """What happens between two runs: 5% of open cases pay up; promises on 2% of them."""
    c = CollectionCase
    open_case = c.status == CaseStatus.OPEN
    paying = select(c.loan_id).where(open_case, hashed(c.loan_id, 69_069, 20) == 0)
    i = Installment
    db.session.execute(
        update(i)
        .where(i.loan_id.in_(paying), i.due_date <= AS_OF)
        .values(principal_paid=i.principal_due, interest_paid=i.interest_due, fee_paid=i.fee_due)
        .execution_options(synchronize_session=False)
    )
    promising = and_(open_case, hashed(c.loan_id, 22_695_477, 50) == 1)
    db.session.execute(
        insert(PromiseToPay.__table__).from_select(
            ["case_id", "amount_minor", "currency", "promised_on", "made_at", "status"],
            select(
                c.id,
                literal(10_000),
                c.currency,
                case((c.loan_id % 3 == 0, AS_OF), else_=AS_OF + timedelta(days=5)),
                literal(NOW, UTCDateTime),
                literal("pending"),
            ).where(promising),
        )
    )
    db.session.execute(
        insert(Payment.__table__).from_select(
            ["loan_id", "amount_minor", "currency", "method", "received_at", "created_at"],
            select(
                c.loan_id,
                literal(10_000),
                c.currency,
                literal("alipay"),
                literal(NOW + timedelta(hours=1), UTCDateTime),
                literal(NOW + timedelta(hours=1), UTCDateTime),
            ).where(promising, c.loan_id % 2 == 1),
        )
    )


# --- Measurement ---------------------------------------------------------------------------


def baseline_statement(as_of: date):
    """Each loan's oldest unpaid due date and overdue amount: one GROUP BY over installment."""
    i = Installment
    return (
        select(
            i.loan_id,
            func.min(i.due_date),
            func.sum(
                i.principal_due
                - i.principal_paid
                + i.interest_due
                - i.interest_paid
                + i.fee_due
                - i.fee_paid
            ),
        )
        .where(
            i.due_date < as_of,
            or_(
                i.principal_paid < i.principal_due,
                i.interest_paid < i.interest_due,
                i.fee_paid < i.fee_due,
            ),
        )
        .group_by(i.loan_id)
    )


def warm_up(as_of: date) -> None:
    """Read what the baseline reads, untimed, without fetching it: both sides start warm."""
    with db.engine.connect() as connection:
        connection.execute(select(func.count()).select_from(baseline_statement(as_of).subquery()))


def measure_baseline(as_of: date) -> tuple[float, int, int]:
    """Median seconds of BASELINE_ROUNDS runs, each fetched fully; its (rows, overdue total)."""
    statement = baseline_statement(as_of)
    seconds, count, total = [], 0, 0
    with db.engine.connect() as connection:
        for _ in range(BASELINE_ROUNDS):
            started = time.perf_counter()
            rows = connection.execute(statement).all()
            seconds.append(time.perf_counter() - started)
            count, total = len(rows), sum(int(row[2]) for row in rows)
            del rows  # one result in memory at a time
    median = statistics.median(seconds)
    progress(f"baseline for {as_of}: {median:.2f} s (median of {BASELINE_ROUNDS}), {count} loans")
    return median, count, total


def check_against(expected: tuple[int, int], label: str) -> None:
    """The open cases must be exactly the baseline's overdue loans, with the same total.

    Every generated loan with an unpaid installment is active, so no status filter is needed.
    """
    c = CollectionCase
    count, total = db.session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(c.overdue_principal + c.overdue_interest + c.overdue_fee), 0),
        ).where(c.status == CaseStatus.OPEN)
    ).one()
    if (int(count), int(total)) != expected:
        raise BenchError(
            f"{label}: open cases (count, overdue) {count, total}, baseline {expected}"
        )


def rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


def timed_run(label: str, as_of: date, now: datetime) -> tuple[RunReport, float, float]:
    tracemalloc.start()
    started = time.perf_counter()
    report = run_collections(as_of, now=now, contacts=False)
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    progress(
        f"{label} run for {as_of}: {seconds:.2f} s, opened {report.cases_opened}, cured "
        f"{report.cases_cured}, transitions {report.transitions}"
    )
    return report, seconds, round(peak / 2**20, 1)


def counts_by(column) -> dict[str, int]:
    rows = db.session.execute(
        select(column, func.count())
        .where(CollectionCase.status == CaseStatus.OPEN)
        .group_by(column)
        .order_by(column)
    ).all()
    return {str(value): number for value, number in rows}


def enable_late_charges() -> None:
    """A charge policy for every product that charges both a late fee and penalty interest."""
    for product in LoanProduct:
        db.session.add(
            ChargePolicy(
                product=product,
                version=1,
                grace_days=3,
                late_fee_kind=LateFeeKind.PERCENT,
                late_fee_flat_minor=0,
                late_fee_bps=500,
                penalty_bps_per_day=5,
                cap_annual_bps=2400,
                waterfall=[component.value for component in DEFAULT_WATERFALL],
                created_at=NOW,
            )
        )
    db.session.commit()


def measure(app: Flask, late_charges: bool) -> dict[str, Any]:
    """First run, the day after, and a rerun of that day; each against its baseline."""
    results: dict[str, Any] = {}
    with app.app_context():
        if late_charges:
            enable_late_charges()
        warm_up(AS_OF)
        report, seconds, traced = timed_run("first", AS_OF, NOW)
        # Before any baseline result is fetched: the process's peak through generation and
        # the heaviest run.
        results["rss_peak_mb_after_first_run"] = rss_mb()
        baseline, count, total = measure_baseline(AS_OF)
        check_against((count, total), "first run")
        results["first"] = summary(report, seconds, baseline, traced, count)
        results["buckets"] = counts_by(CollectionCase.bucket)
        results["stages"] = counts_by(CollectionCase.stage)

        step("between days: payments and promises", between_days)
        step("autovacuum's work over the day (VACUUM ANALYZE)", analyze)
        day, later = AS_OF + timedelta(days=1), NOW + timedelta(days=1)
        warm_up(day)
        report, seconds, traced = timed_run("daily", day, later)
        baseline, count, total = measure_baseline(day)
        check_against((count, total), "daily run")
        results["daily"] = summary(report, seconds, baseline, traced, count)
        results["promises"] = {
            str(status): number
            for status, number in db.session.execute(
                select(PromiseToPay.status, func.count()).group_by(PromiseToPay.status)
            ).all()
        }

        report, seconds, traced = timed_run("rerun", day, later + timedelta(minutes=5))
        if (report.cases_opened, report.cases_cured, report.transitions) != (0, 0, 0):
            raise BenchError(f"a rerun for {day} changed cases: {report}")
        check_against((count, total), "rerun")
        results["rerun"] = summary(report, seconds, baseline, traced, count)
    return results


def summary(
    report: RunReport, seconds: float, baseline: float, traced_mb: float, rows: int
) -> dict[str, Any]:
    return {
        "as_of": report.as_of,
        "seconds": round(seconds, 3),
        "loans_per_s": rate(report.loans_evaluated, seconds),
        "loans_evaluated": report.loans_evaluated,
        "cases_opened": report.cases_opened,
        "cases_cured": report.cases_cured,
        "transitions": report.transitions,
        "late_charges_accrued": report.late_charges_accrued,
        "baseline_seconds": round(baseline, 3),
        "baseline_rows": rows,
        "ratio_run_to_baseline": ratio(seconds, baseline),
        "tracemalloc_peak_mb": traced_mb,
    }


def benchmark(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="settle-bench-") as temp_dir:
        url = prepare_database(args.database_url, temp_dir)
        app = migrated_app(url)
        try:
            generated = generate(app, args.loans)
            rss_generated = rss_mb()
            results = measure(app, args.late_charges)
        finally:
            dispose(app)
    worst = max(results["first"]["seconds"], results["daily"]["seconds"])
    worst_ratio = max(
        results["first"]["ratio_run_to_baseline"], results["daily"]["ratio_run_to_baseline"]
    )
    peak = rss_mb()
    result = (
        environment(url)
        | {"benchmark": "collections_run", "contacts": False, "late_charges": args.late_charges}
        | generated
        | results
        | {
            "rss_peak_mb_after_generation": rss_generated,
            "rss_peak_mb": peak,
            "targets": {
                "seconds_at_1m_under": TARGET_SECONDS_1M,
                "ratio_under": TARGET_RATIO,
                "rss_mb_under": TARGET_RSS_MB,
                # The time target is for 1,000,000 loans; smaller runs are scaled to it.
                "seconds_met": worst * 1_000_000 / args.loans < TARGET_SECONDS_1M,
                "ratio_met": worst_ratio < TARGET_RATIO,
                "rss_met": peak < TARGET_RSS_MB,
            },
        }
    )
    emit(
        result,
        f"collections run on {result['dialect']}, {args.loans} loans: first "
        f"{results['first']['seconds']:.1f} s ({results['first']['ratio_run_to_baseline']}x "
        f"baseline), daily {results['daily']['seconds']:.1f} s "
        f"({results['daily']['ratio_run_to_baseline']}x), rerun "
        f"{results['rerun']['seconds']:.1f} s; peak RSS {peak} MB",
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_main(lambda: benchmark(args))


if __name__ == "__main__":
    raise SystemExit(main())
