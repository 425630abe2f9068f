"""The daily collections run: positions, buckets, cases, stages, promises, assignment, contacts.

Set-based: every step is one SQL statement over all loans (INSERT ... SELECT, UPDATE ... FROM),
never a Python loop over loans, so it scales to millions. Only the contacts it decides to make
are handled one by one, in batches, because each message is rendered for its borrower.

Idempotent: a second run for the same date changes nothing and queues nothing. Safe to start
twice: the ``collection_run`` row for the date is the lock; a second run exits with RunInProgress.
Commits after each step (a crash leaves a consistent, re-runnable state).

The steps, in order, each in its own module: ``lock`` (claim the date), ``charges`` (late
charges accrued, ``portal.loans.charges.accrual``), ``positions``,
``plans`` (completed, broken, expired: ``portal.plans.monitoring``),
``cases`` (open), ``cures``, ``snapshots`` (refresh figures, month-end buckets), ``stages``,
``promises``, ``assignment``, then ``portal.collections.contacts`` and the broken plans'
notices (today only).
"""

from __future__ import annotations

import time as wall_time
from dataclasses import asdict, dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from portal.collections.run import (
    assignment,
    cases,
    charges,
    cures,
    lock,
    plans,
    positions,
    promises,
    snapshots,
    stages,
)
from portal.collections.run.lock import RunInProgress, RunRefused
from portal.collections.strategy.services import current_strategy
from portal.extensions import db
from portal.loans.models import Loan, LoanStatus
from portal.timeutil import portfolio_today

__all__ = ["RunInProgress", "RunRefused", "RunReport", "run_collections"]


@dataclass
class RunReport:
    as_of: str
    loans_evaluated: int = 0
    cases_opened: int = 0
    cases_cured: int = 0
    transitions: int = 0
    contacts_queued: int = 0
    contacts_deferred: int = 0
    contacts_blocked: int = 0
    late_charges_accrued: int = 0
    plans_completed: int = 0
    plans_broken: int = 0
    plans_expired: int = 0
    plans_told: int = 0  # broken plans whose borrowers were told (with the contacts)
    seconds: float = 0.0


def run_collections(as_of: date, *, now: datetime, contacts: bool = True) -> RunReport:
    """Run collections for ``as_of`` (a date in DEFAULT_TIMEZONE). Commits per step.

    Contacts are queued only when ``as_of`` is today (nobody is contacted in the past) and
    ``contacts`` is true. Raises RunRefused (future date, date before any loan) or RunInProgress.
    """
    started = wall_time.perf_counter()
    lock.check_date(as_of, now)
    strategy = current_strategy()
    lock.claim_run(as_of, now, strategy.version)
    report = RunReport(as_of=as_of.isoformat())
    try:
        report.loans_evaluated = (
            db.session.scalar(
                select(func.count()).select_from(Loan).where(Loan.status == LoanStatus.ACTIVE)
            )
            or 0
        )
        report.late_charges_accrued = charges.accrue_charges(as_of)
        positions.rebuild_positions(as_of, strategy)
        watched = plans.watch_plans(as_of, now)
        report.plans_completed, report.plans_broken = len(watched.completed), len(watched.broken)
        report.plans_expired = watched.expired
        report.cases_opened = cases.open_cases(as_of, strategy, now)
        report.cases_cured = cures.cure_cases(as_of, now)
        snapshots.refresh_snapshots(as_of)
        report.transitions = (
            stages.move_stages(as_of, strategy, now) + report.cases_opened + report.cases_cured
        )
        promises.settle_promises(as_of)
        assignment.assign_cases()
        if contacts and as_of == portfolio_today(now):
            from portal.collections.contacts import queue_stage_contacts

            queued, deferred, blocked = queue_stage_contacts(as_of, strategy, now=now)
            report.plans_told = plans.tell_broken(as_of, now)
            report.contacts_queued, report.contacts_deferred, report.contacts_blocked = (
                queued,
                deferred,
                blocked,
            )
    except Exception:
        db.session.rollback()
        lock.release_run(as_of, None, now)
        raise
    report.seconds = round(wall_time.perf_counter() - started, 3)
    lock.release_run(as_of, asdict(report), now)
    return report
