"""Benchmark: the daily collections run over a large portfolio, against one bare SQL query.

What is measured: ``portal.collections.run.run_collections(as_of, now=..., contacts=False)``
on a generated portfolio of ``--loans`` loans (default 100,000; up to 1,000,000):

- ``first``: the first run over the portfolio, on AS_OF: every overdue loan gets a case (the
  heaviest run: hundreds of thousands of cases and transitions written and assigned); the loans
  in a repayment plan came with their open "in plan" cases.
- ``daily``: the next day, after 5% of the open cases not in a plan paid up, promises were
  recorded on 2% of them (a third due that day, the rest in 5 days; half of those with a
  payment of the promised amount), some plan installments were paid, and a VACUUM ANALYZE stood
  in for what autovacuum does over a day: cures, new cases, stage moves, plans broken and
  completed, promises kept and broken: the steady-state run.
- ``rerun``: the same day again, which must change nothing (the idempotency path).

Late charges are accrued by the run (its first step, ``portal.loans.charges.accrual``) under a
policy saved for every product before the first run: a 5 % late fee after 3 grace days and
penalty interest of 5 bps a day, capped at 24 % a year; ``--no-late-charges`` keeps the default
policy (which charges nothing), to compare.

Contacts are NOT part of these figures (``contacts=False``): they are per-message work (render,
guard, outbox) done in batches only for the cases due a contact that day, and for the borrowers
whose plan broke (``portal.plans.monitoring.tell_broken_plans``); the messaging benchmark
(bench/messaging_dispatch.py) measures that path. The default templates are installed, as in a
deployment (``_plan_days.install_notice_templates``).

Baseline, in the same process on the same database: ONE plain SQL query computing each loan's
oldest unpaid due date and overdue amount (``GROUP BY installment.loan_id`` over the unpaid
installments due before the date), every row fetched into Python; the median of three. It is
the least work any daily run must do (find who is overdue and by how much), so ``run /
baseline`` is the price of everything the run adds: the positions table, buckets, stages, case
rows and their transitions, cures, promises, assignment. Before each run an untimed
``count(*)`` over the baseline query warms the cache for both sides.

Each result is checked against its baseline, loan by loan, in one query joining the open cases
to the baseline's rows and to the active plans (``check_against``): the open cases are exactly
the baseline's loans plus the loans in an ACTIVE plan with nothing overdue; each case of a
baseline loan has that loan's overdue amount (principal + interest + fee) and their sum is the
baseline's; each case of a loan in an active plan with nothing overdue has no figures at all (no
amounts, no oldest unpaid due date); and every loan in an active plan has its open case (a plan
kept keeps its case open; one broken is overdue again, one completed is cured). A fast but wrong
run is no result.

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
behind, a quarter of those with the oldest missed installment partly paid (``_portfolio.py``).
3% of the loans overdue on AS_OF are in an ACTIVE repayment plan, restructured as the portal
does it (originals rescheduled, plan installments as new rows), with a mix of plans kept, late
within the grace days, broken by the first or the daily run and completed by the daily run
(``_plans.py`` says how). The realised bucket and stage mix, the plans by profile and by status
after each run, and the promises are in the JSON.

Run: ``.venv/bin/python bench/collections_run.py [--loans N] [--database-url URL]
[--plans-per-mille N] [--no-late-charges]``.
PostgreSQL only in a database named ``bench`` or ``test_bench`` (its public schema is dropped).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
import tracemalloc
from datetime import date, datetime, timedelta
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
    slowest_statements,
)
from _plan_days import install_notice_templates, pay_plans_between_days, plans_by_status
from _plans import PLAN_PER_MILLE, generate_plans
from _portfolio import (
    AS_OF,
    COLLECTORS,
    NOW,
    add_collectors,
    analyze,
    between_days,
    fill_borrowers,
    fill_calendar,
    fill_installments,
    fill_loan_shapes,
    fill_loans,
    fill_numbers,
    fill_payments,
    helpers,
    step,
)
from flask import Flask
from sqlalchemy import and_, case, func, or_, select

from portal.collections.models import CaseStatus, CollectionCase, PromiseToPay
from portal.collections.run import RunReport, run_collections
from portal.extensions import db
from portal.loans.allocation import DEFAULT_WATERFALL
from portal.loans.charges.models import ChargePolicy, LateFeeKind
from portal.loans.models import Installment, LoanProduct, Payment
from portal.plans.models import PlanStatus, RepaymentPlan

BASELINE_ROUNDS = 3
TARGET_SECONDS_1M = 60.0
TARGET_RATIO = 5.0
TARGET_RSS_MB = 500.0
SLOWEST: dict[str, list[dict[str, Any]]] = {}  # each run's slowest statements, for the JSON


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_database_option(parser)
    parser.add_argument(
        "--loans", type=count_option(100), default=100_000, help="loans to generate"
    )
    parser.add_argument(
        "--plans-per-mille",
        type=count_option(0, 1000),
        default=PLAN_PER_MILLE,
        help="loans in a repayment plan per 1,000 loans overdue on AS_OF (0: none, to compare)",
    )
    parser.add_argument(
        "--no-late-charges",
        dest="late_charges",
        action="store_false",
        help="run with the default charge policy (no late fee, no penalty interest)",
    )
    return parser.parse_args(argv)


# --- Measurement ---------------------------------------------------------------------------


def baseline_statement(as_of: date):
    """Each loan's oldest unpaid due date and overdue amount: one GROUP BY over installment."""
    i = Installment
    return (
        select(
            i.loan_id.label("loan_id"),
            func.min(i.due_date).label("oldest"),
            func.sum(
                i.principal_due
                - i.principal_paid
                + i.interest_due
                - i.interest_paid
                + i.fee_due
                - i.fee_paid
            ).label("overdue"),
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


def _count(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def check_against(as_of: date, expected: tuple[int, int], label: str) -> None:
    """The open cases, loan by loan, against the baseline's rows and the active plans.

    The open cases must be exactly the baseline's loans (``expected``: their count and overdue
    total) plus the loans in an ACTIVE plan with nothing overdue; a baseline loan's case has
    that loan's overdue amount; a case in plan with nothing overdue has no figures; every loan
    in an active plan has its open case. Every generated loan with an unpaid installment is
    active, so no status filter is needed. One query (untimed).
    """
    c = CollectionCase
    overdue = baseline_statement(as_of).subquery()
    p = RepaymentPlan
    plans = select(p.loan_id).where(p.status == PlanStatus.ACTIVE).subquery()
    figures = c.overdue_principal + c.overdue_interest + c.overdue_fee
    is_overdue, in_plan = overdue.c.loan_id.is_not(None), plans.c.loan_id.is_not(None)
    row = db.session.execute(
        select(
            func.count().label("open"),
            func.coalesce(func.sum(figures), 0).label("total"),
            _count(is_overdue).label("overdue_loans"),
            _count(and_(is_overdue, figures != overdue.c.overdue)).label("wrong_amount"),
            _count(in_plan).label("in_plan"),
            _count(and_(~is_overdue, in_plan)).label("in_plan_clear"),
            _count(
                and_(
                    ~is_overdue,
                    in_plan,
                    or_(figures + c.overdue_late_charge != 0, c.oldest_unpaid_due.is_not(None)),
                )
            ).label("in_plan_with_figures"),
            _count(and_(~is_overdue, ~in_plan)).label("neither"),
        )
        .select_from(c)
        .outerjoin(overdue, overdue.c.loan_id == c.loan_id)
        .outerjoin(plans, plans.c.loan_id == c.loan_id)
        .where(c.status == CaseStatus.OPEN)
    ).one()
    active = db.session.scalar(select(func.count()).select_from(plans))
    count, total = expected
    failures = {
        "overdue loans without an open case": count - row.overdue_loans,
        "cases whose amount is not the loan's": row.wrong_amount,
        "overdue total off by": total - row.total,
        "active plans without an open case": active - row.in_plan,
        "cases in plan with figures but nothing overdue": row.in_plan_with_figures,
        "open cases neither overdue nor in plan": row.neither,
    }
    wrong = {what: number for what, number in failures.items() if number}
    if wrong:
        raise BenchError(f"{label}: {wrong} (baseline {expected}, open cases {row.open})")
    if row.open != count + row.in_plan_clear:
        raise BenchError(f"{label}: {row.open} open cases, {count} + {row.in_plan_clear} expected")
    progress(
        f"{label} checked: {row.open} open cases = {count} overdue loans + {row.in_plan_clear} "
        f"in a plan with nothing overdue ({row.in_plan} in an active plan)"
    )


def rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


def timed_run(label: str, as_of: date, now: datetime) -> tuple[RunReport, float, float]:
    """One run, timed; its traced peak in MB. Its slowest statements go to ``SLOWEST``."""
    with slowest_statements(db.engine) as slowest:
        tracemalloc.start()
        started = time.perf_counter()
        report = run_collections(as_of, now=now, contacts=False)
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    SLOWEST[label] = slowest
    progress(
        f"{label} run for {as_of}: {seconds:.2f} s, opened {report.cases_opened}, cured "
        f"{report.cases_cured}, transitions {report.transitions}, plans broken "
        f"{report.plans_broken}, completed {report.plans_completed}; slowest statements: "
        + "; ".join(f"{s['seconds']} s {s['sql'][:60]}" for s in slowest[:4])
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
        install_notice_templates(NOW)
        warm_up(AS_OF)
        report, seconds, traced = timed_run("first", AS_OF, NOW)
        # Before any baseline result is fetched: the process's peak through generation and
        # the heaviest run.
        results["rss_peak_mb_after_first_run"] = rss_mb()
        baseline, count, total = measure_baseline(AS_OF)
        check_against(AS_OF, (count, total), "first run")
        results["first"] = summary(report, seconds, baseline, traced, count)
        results["buckets"] = counts_by(CollectionCase.bucket)
        results["stages"] = counts_by(CollectionCase.stage)
        plans = {"after_first": plans_by_status()}

        promised = step("between days: payments and promises", between_days)
        plans["installments_paid_between"] = step(
            "between days: plan installments paid", pay_plans_between_days
        )
        step("autovacuum's work over the day (VACUUM ANALYZE)", analyze)
        day, later = AS_OF + timedelta(days=1), NOW + timedelta(days=1)
        warm_up(day)
        report, seconds, traced = timed_run("daily", day, later)
        baseline, count, total = measure_baseline(day)
        check_against(day, (count, total), "daily run")
        results["daily"] = summary(report, seconds, baseline, traced, count)
        plans["after_daily"] = plans_by_status()
        results["promises"] = {
            "recorded": promised,
            "after_daily": {
                str(status): number
                for status, number in db.session.execute(
                    select(PromiseToPay.status, func.count()).group_by(PromiseToPay.status)
                ).all()
            },
        }

        report, seconds, traced = timed_run("rerun", day, later + timedelta(minutes=5))
        if (report.cases_opened, report.cases_cured, report.transitions) != (0, 0, 0):
            raise BenchError(f"a rerun for {day} changed cases: {report}")
        check_against(day, (count, total), "rerun")
        results["rerun"] = summary(report, seconds, baseline, traced, count)
        plans["after_rerun"] = plans_by_status()
        results["plans"] = plans
    return results


def generate(app: Flask, loans: int, plans_per_mille: int) -> dict[str, Any]:
    """The portfolio (``_portfolio``) and its repayment plans (``_plans``), then statistics."""
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
        plans = generate_plans(step, plans_per_mille)
        step(f"{COLLECTORS} collectors", add_collectors)
        helpers.drop_all(db.engine)
        installments = db.session.scalar(select(func.count()).select_from(Installment))
        payments = db.session.scalar(select(func.count()).select_from(Payment))
        step("vacuum/analyze", analyze)
    seconds = time.perf_counter() - started
    progress(
        f"generated {loans} loans, {installments} installments, {payments} payments, "
        f"{plans['active']} active plans in {seconds:.1f} s"
    )
    return {
        "loans": loans,
        "borrowers": borrowers,
        "installments": installments,
        "payments": payments,
        "plans": plans,
        "generate_seconds": round(seconds, 1),
    }


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
        "plans_completed": report.plans_completed,
        "plans_broken": report.plans_broken,
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
            generated = generate(app, args.loans, args.plans_per_mille)
            plans_generated = generated.pop("plans")
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
        | {
            "benchmark": "collections_run",
            "contacts": False,
            "late_charges": args.late_charges,
            "plans_per_mille": args.plans_per_mille,
        }
        | generated
        | results
        | {"plans": {"generated": plans_generated} | results["plans"]}
        | {
            "rss_peak_mb_after_generation": rss_generated,
            "rss_peak_mb": peak,
            "slowest_statements": SLOWEST,
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
