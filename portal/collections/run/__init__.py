"""The daily collections run: positions, buckets, cases, stages, promises, assignment, contacts.

Set-based: every step is one SQL statement over all loans (INSERT ... SELECT, UPDATE ... FROM),
never a Python loop over loans, so it scales to millions. Only the contacts it decides to make
are handled one by one, in batches, because each message is rendered for its borrower.

Idempotent: a second run for the same date changes nothing and queues nothing. Safe to start
twice: the ``collection_run`` row for the date is the lock; a second run exits with RunInProgress.
Commits after each step (a crash leaves a consistent, re-runnable state).
"""

from __future__ import annotations

import time as wall_time
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    String,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from portal.collections.models import (
    CaseStatus,
    CaseTransition,
    CollectionCase,
    CollectionPosition,
    CollectionRun,
    DelinquencySnapshot,
    PromiseStatus,
    PromiseToPay,
)
from portal.collections.strategy import Strategy, current_strategy
from portal.dbtypes import UTCDateTime
from portal.domain import DomainError
from portal.extensions import db
from portal.loans.models import Installment, Loan, LoanStatus, Payment
from portal.sqlutil import (
    analyze,
    days_since,
    empty_table,
    insert_from_select_skipping_conflicts,
    plan_for_bulk,
    rows_affected,
)
from portal.timeutil import portfolio_today

STALE_RUN = timedelta(hours=1)
MANY_NEW_CASES = 10_000  # opening more than this, and more than there were, refreshes statistics


class RunRefused(DomainError):
    status_code = 422


class RunInProgress(DomainError):
    status_code = 409
    message = _l("A collections run for this date is already in progress. Try again when it ends.")


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
    seconds: float = 0.0


def run_collections(as_of: date, *, now: datetime, contacts: bool = True) -> RunReport:
    """Run collections for ``as_of`` (a date in DEFAULT_TIMEZONE). Commits per step.

    Contacts are queued only when ``as_of`` is today (nobody is contacted in the past) and
    ``contacts`` is true. Raises RunRefused (future date, date before any loan) or RunInProgress.
    """
    started = wall_time.perf_counter()
    _check_date(as_of, now)
    strategy = current_strategy()
    _claim_run(as_of, now, strategy.version)
    report = RunReport(as_of=as_of.isoformat())
    try:
        report.loans_evaluated = (
            db.session.scalar(
                select(func.count()).select_from(Loan).where(Loan.status == LoanStatus.ACTIVE)
            )
            or 0
        )
        _rebuild_positions(as_of, strategy)
        report.cases_opened = _open_cases(as_of, strategy, now)
        report.cases_cured = _cure_cases(as_of, now)
        _refresh_snapshots(as_of)
        report.transitions = (
            _move_stages(as_of, strategy, now) + report.cases_opened + report.cases_cured
        )
        _settle_promises(as_of)
        _assign_cases()
        if contacts and as_of == portfolio_today(now):
            from portal.collections.contacts import queue_stage_contacts

            queued, deferred, blocked = queue_stage_contacts(as_of, strategy, now=now)
            report.contacts_queued, report.contacts_deferred, report.contacts_blocked = (
                queued,
                deferred,
                blocked,
            )
    except Exception:
        db.session.rollback()
        _release_run(as_of, None, now)
        raise
    report.seconds = round(wall_time.perf_counter() - started, 3)
    _release_run(as_of, report, now)
    return report


def _check_date(as_of: date, now: datetime) -> None:
    today = portfolio_today(now)
    if as_of > today:
        raise RunRefused(
            _l("A run cannot be for a future date (today is %(today)s).", today=today.isoformat())
        )
    # EXISTS stops at the first such loan; min(disbursed_on) would read them all.
    if not db.session.scalar(select(exists().where(Loan.disbursed_on <= as_of))):
        raise RunRefused(
            _l("There are no loans on or before %(date)s to evaluate.", date=as_of.isoformat())
        )
    # Cases hold the state of the latest run (their days past due count to its date): a run
    # for an earlier date would turn them back in time.
    latest = db.session.scalar(select(func.max(CollectionRun.as_of)))
    if latest is not None and as_of < latest:
        raise RunRefused(
            _l(
                "Runs go forward in time: the latest run was for %(latest)s, so %(date)s "
                "cannot be run any more.",
                latest=latest.isoformat(),
                date=as_of.isoformat(),
            )
        )


def _claim_run(as_of: date, now: datetime, strategy_version: int) -> None:
    try:
        db.session.add(
            CollectionRun(
                as_of=as_of,
                status="running",
                started_at=now,
                strategy_version=strategy_version,
                report={},
            )
        )
        db.session.commit()
        return
    except IntegrityError:
        db.session.rollback()
    # A finished run may run again (it changes nothing); a running one only if it went stale.
    claimed = rows_affected(
        db.session.execute(
            update(CollectionRun)
            .where(
                CollectionRun.as_of == as_of,
                or_(CollectionRun.status == "finished", CollectionRun.started_at < now - STALE_RUN),
            )
            .values(status="running", started_at=now, strategy_version=strategy_version)
        )
    )
    db.session.commit()
    if not claimed:
        raise RunInProgress()


def _release_run(as_of: date, report: RunReport | None, now: datetime) -> None:
    """Mark the run finished (a failed run too: it may be retried at once)."""
    values: dict = {"status": "finished", "finished_at": now}
    if report is not None:
        values["report"] = asdict(report)
    db.session.execute(update(CollectionRun).where(CollectionRun.as_of == as_of).values(**values))
    db.session.commit()


def _bucket_case(dpd, strategy: Strategy):
    whens = [(dpd >= b["min_dpd"], b["name"]) for b in reversed(strategy.buckets)]
    return case(*whens, else_=strategy.buckets[0]["name"])


def _stage_case(dpd, strategy: Strategy):
    # Stages 1-3 follow days past due; stage 4 (legal) needs an admin's approval.
    return case(
        (dpd >= strategy.stage(3)["entry_dpd"], 3),
        (dpd >= strategy.stage(2)["entry_dpd"], 2),
        else_=1,
    )


def _of_loan(column, loan_id):
    """A loan's attribute, looked up by key for each row (a subplan, not a join of every loan)."""
    return select(column).where(Loan.id == loan_id).scalar_subquery()


def _rebuild_positions(as_of: date, strategy: Strategy) -> None:
    """Every active loan with an installment past due (after the grace period), by component."""
    cutoff = as_of - timedelta(days=strategy.grace_days)
    unpaid = or_(
        Installment.principal_paid < Installment.principal_due,
        Installment.interest_paid < Installment.interest_due,
        Installment.fee_paid < Installment.fee_due,
    )
    # Loans that are not active (paid off, written off) are a small minority: excluding them
    # with an anti-join is far cheaper than joining every installment to its loan.
    not_active = exists().where(Loan.id == Installment.loan_id, Loan.status != LoanStatus.ACTIVE)
    overdue = (
        select(
            Installment.loan_id.label("loan_id"),
            func.min(Installment.due_date).label("oldest"),
            func.sum(Installment.principal_due - Installment.principal_paid).label("principal"),
            func.sum(Installment.interest_due - Installment.interest_paid).label("interest"),
            func.sum(Installment.fee_due - Installment.fee_paid).label("fee"),
        )
        .where(Installment.due_date < cutoff, unpaid, ~not_active)
        .group_by(Installment.loan_id)
        .subquery()
    )
    dpd = days_since(as_of, overdue.c.oldest)
    empty_table(CollectionPosition)
    plan_for_bulk()
    db.session.execute(
        insert(CollectionPosition).from_select(
            [
                "loan_id",
                "oldest_unpaid_due",
                "days_past_due",
                "bucket",
                "dpd_stage",
                "overdue_principal",
                "overdue_interest",
                "overdue_fee",
            ],
            select(
                overdue.c.loan_id,
                overdue.c.oldest,
                dpd,
                _bucket_case(dpd, strategy),
                _stage_case(dpd, strategy),
                overdue.c.principal,
                overdue.c.interest,
                overdue.c.fee,
            ),
        )
    )
    db.session.commit()
    analyze(CollectionPosition)  # refilled from scratch: its statistics are always stale
    db.session.commit()


def _open_cases(as_of: date, strategy: Strategy, now: datetime) -> int:
    """Open a case for each overdue loan without an open one, with its 'opened' transition.

    Both inserts commit together, so the cases this run opened are exactly those above the
    highest case id before it: no anti-join on the tables being written (see
    ``insert_from_select_skipping_conflicts``), and a rerun adds nothing.
    """
    p, c = CollectionPosition, CollectionCase
    plan_for_bulk(whole_table_join=True)
    before = db.session.scalar(select(func.max(c.id))) or 0
    opened = rows_affected(
        db.session.execute(
            insert_from_select_skipping_conflicts(
                CollectionCase,
                [
                    "loan_id",
                    "borrower_id",
                    "status",
                    "opened_on",
                    "stage",
                    "stage_entered_on",
                    "bucket",
                    "oldest_unpaid_due",
                    "overdue_principal",
                    "overdue_interest",
                    "overdue_fee",
                    "currency",
                    "strategy_version",
                    "legal_status",
                    "created_at",
                ],
                select(
                    p.loan_id,
                    _of_loan(Loan.borrower_id, p.loan_id),
                    literal(CaseStatus.OPEN.value),
                    literal(as_of),
                    p.dpd_stage,
                    literal(as_of),
                    p.bucket,
                    p.oldest_unpaid_due,
                    p.overdue_principal,
                    p.overdue_interest,
                    p.overdue_fee,
                    _of_loan(Loan.currency, p.loan_id),
                    literal(strategy.version),
                    literal("none"),
                    literal(now, UTCDateTime),
                ).where(~exists().where(c.loan_id == p.loan_id, c.status == CaseStatus.OPEN.value)),
                # uq_collection_case_open_loan: a loan with an open case keeps it. The NOT
                # EXISTS above skips most of them cheaply (one hash anti-join); the conflict
                # clause is what guarantees it.
                index_elements=[c.loan_id],
                index_where=c.status == CaseStatus.OPEN.value,
            )
        )
    )
    db.session.execute(
        insert(CaseTransition).from_select(
            ["case_id", "kind", "from_stage", "to_stage", "reason", "run_on", "created_at"],
            select(
                c.id,
                literal("opened"),
                literal(None),
                c.stage,
                literal("overdue ")
                + cast(days_since(as_of, c.oldest_unpaid_due), String)
                + literal(" dpd"),
                literal(as_of),
                literal(now, UTCDateTime),
            ).where(c.id > before, c.status == CaseStatus.OPEN, c.opened_on == as_of),
        )
    )
    db.session.commit()
    # A first run (or a portfolio that doubled): the next statements must not plan for the
    # handful of cases the statistics still describe. A usual day opens a few percent.
    if opened > max(MANY_NEW_CASES, before):
        analyze(CollectionCase)
        db.session.commit()
    return opened


def _cure_cases(as_of: date, now: datetime) -> int:
    """Close open cases whose loan is no longer overdue, each with its 'cured' transition.

    One anti-join: the UPDATE returns what the transitions need ("paid_off" becomes the reason
    "paid off"), and both commit together.
    """
    c = CollectionCase
    plan_for_bulk(whole_table_join=True)
    no_longer_overdue = and_(
        c.status == CaseStatus.OPEN,
        ~exists().where(CollectionPosition.loan_id == c.loan_id),
    )
    loan_status = select(Loan.status).where(Loan.id == c.loan_id).scalar_subquery()
    cure = (
        update(c)
        .where(no_longer_overdue)
        .values(
            status=case(
                (loan_status == LoanStatus.WRITTEN_OFF.value, CaseStatus.CLOSED.value),
                else_=CaseStatus.CURED.value,
            ),
            closed_on=as_of,
            close_reason=case(
                (loan_status == LoanStatus.PAID_OFF.value, "paid_off"),
                (loan_status == LoanStatus.WRITTEN_OFF.value, "written_off"),
                else_="paid_up",
            ),
            overdue_principal=0,
            overdue_interest=0,
            overdue_fee=0,
        )
        .returning(c.id, c.stage, c.close_reason)
    )
    columns = ["case_id", "kind", "from_stage", "to_stage", "reason", "run_on", "created_at"]
    if db.engine.dialect.name == "postgresql":
        # One statement: the transitions are inserted from the UPDATE's RETURNING rows.
        cured_rows = cure.cte("cured")
        cured = rows_affected(
            db.session.execute(
                insert(CaseTransition)
                .from_select(
                    columns,
                    select(
                        cured_rows.c.id,
                        literal("cured"),
                        cured_rows.c.stage,
                        literal(None),
                        func.replace(cured_rows.c.close_reason, "_", " "),
                        literal(as_of),
                        literal(now, UTCDateTime),
                    ),
                )
                .execution_options(preserve_rowcount=True)
            )
        )
    else:  # SQLite has no UPDATE in a WITH clause: the cured cases come back, then one INSERT
        returned = db.session.execute(cure.execution_options(synchronize_session=False)).all()
        if returned:
            db.session.execute(
                insert(CaseTransition),
                [
                    {
                        "case_id": row.id,
                        "kind": "cured",
                        "from_stage": row.stage,
                        "to_stage": None,
                        "reason": row.close_reason.replace("_", " "),
                        "run_on": as_of,
                        "created_at": now,
                    }
                    for row in returned
                ],
            )
        cured = len(returned)
    db.session.commit()
    return cured


def _move_stages(as_of: date, strategy: Strategy, now: datetime) -> int:
    """Move open cases to the stage their days past due call for (stage 4 only by approval).

    Runs after the refresh, so each case's oldest unpaid due date is today's: the stage is
    computed from the case row alone, without joining the positions again.
    """
    c = CollectionCase
    plan_for_bulk()
    dpd = days_since(as_of, c.oldest_unpaid_due)
    target = _stage_case(dpd, strategy)
    moving = and_(c.status == CaseStatus.OPEN, c.stage < 4, c.stage != target)
    columns = ["case_id", "kind", "from_stage", "to_stage", "reason", "run_on", "created_at"]
    reason = cast(dpd, String) + literal(" dpd")
    db.session.execute(
        insert(CaseTransition).from_select(
            columns,
            select(
                c.id,
                literal("stage"),
                c.stage,
                target,
                reason,
                literal(as_of),
                literal(now, UTCDateTime),
            ).where(moving),
        )
    )
    moved = rows_affected(
        db.session.execute(
            update(c)
            .where(moving)
            .values(stage=target, stage_entered_on=as_of, strategy_version=strategy.version)
            .execution_options(synchronize_session=False)
        )
    )
    db.session.commit()
    return moved


def _refresh_snapshots(as_of: date) -> None:
    c, p = CollectionCase, CollectionPosition
    plan_for_bulk(whole_table_join=True)
    # Only rows whose figures changed (a payment, a new missed installment, a bucket boundary
    # crossed): days past due are derived from oldest_unpaid_due, so a case that merely grew a
    # day older is not rewritten, and a rerun for the same date rewrites nothing.
    changed = or_(
        c.bucket != p.bucket,
        c.oldest_unpaid_due.is_distinct_from(p.oldest_unpaid_due),
        c.overdue_principal != p.overdue_principal,
        c.overdue_interest != p.overdue_interest,
        c.overdue_fee != p.overdue_fee,
    )
    db.session.execute(
        update(c)
        .where(c.loan_id == p.loan_id, c.status == CaseStatus.OPEN, changed)
        .values(
            bucket=p.bucket,
            oldest_unpaid_due=p.oldest_unpaid_due,
            overdue_principal=p.overdue_principal,
            overdue_interest=p.overdue_interest,
            overdue_fee=p.overdue_fee,
        )
        .execution_options(synchronize_session=False)
    )
    if (as_of + timedelta(days=1)).day == 1:  # month end: keep buckets for roll rates
        db.session.execute(delete(DelinquencySnapshot).where(DelinquencySnapshot.as_of == as_of))
        db.session.execute(
            insert(DelinquencySnapshot).from_select(
                ["as_of", "loan_id", "bucket", "days_past_due", "overdue_total", "currency"],
                select(
                    literal(as_of),
                    p.loan_id,
                    p.bucket,
                    p.days_past_due,
                    p.overdue_principal + p.overdue_interest + p.overdue_fee,
                    Loan.currency,
                ).join(Loan, Loan.id == p.loan_id),
            )
        )
    db.session.commit()


def _settle_promises(as_of: date) -> None:
    """Kept when payments since the promise reach its amount; broken once its date passed."""
    promise = PromiseToPay
    plan_for_bulk()
    paid_since = (
        select(func.coalesce(func.sum(Payment.amount_minor), 0))
        .join(CollectionCase, CollectionCase.loan_id == Payment.loan_id)
        .where(CollectionCase.id == promise.case_id, Payment.received_at >= promise.made_at)
        .scalar_subquery()
    )
    db.session.execute(
        update(promise)
        .where(promise.status == PromiseStatus.PENDING, paid_since >= promise.amount_minor)
        .values(status=PromiseStatus.KEPT.value, resolved_on=as_of)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(promise)
        .where(promise.status == PromiseStatus.PENDING, promise.promised_on < as_of)
        .values(status=PromiseStatus.BROKEN.value, resolved_on=as_of)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _assign_cases() -> None:
    """Give unassigned open cases to active collectors so that their workloads level out.

    The least loaded collectors are filled up to the next one's load first, then the rest is
    spread evenly (water-filling). One UPDATE: each case's rank among the unassigned (by id)
    falls in one collector's range.
    """
    from portal.auth.models import Role, User

    c = CollectionCase
    plan_for_bulk()
    load = (
        select(func.count())
        .select_from(c)
        .where(c.assigned_to == User.id, c.status == CaseStatus.OPEN)
        .scalar_subquery()
    )
    collectors = db.session.execute(
        select(User.id, load.label("load"))
        .where(User.role == Role.COLLECTOR, User.is_active_account.is_(True))
        .order_by(load, User.id)
    ).all()
    unassigned = and_(c.status == CaseStatus.OPEN, c.assigned_to.is_(None))
    waiting = db.session.scalar(select(func.count()).select_from(c).where(unassigned)) or 0
    if not collectors or not waiting:
        return
    shares = level_shares([row.load for row in collectors], waiting)
    ranked = (
        select(c.id.label("id"), func.row_number().over(order_by=c.id).label("rank"))
        .where(unassigned)
        .subquery()
    )
    whens, upper = [], 0
    for row, share in zip(collectors, shares, strict=True):
        if share:
            upper += share
            whens.append((ranked.c.rank <= upper, row.id))
    db.session.execute(
        update(c)
        .where(c.id == ranked.c.id)
        .values(assigned_to=case(*whens))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def level_shares(loads: list[int], cases: int) -> list[int]:
    """How many of ``cases`` each collector gets (``loads`` ascending) to level the loads."""
    level, filled, remaining = loads[0], 1, cases
    while filled < len(loads) and (loads[filled] - level) * filled <= remaining:
        remaining -= (loads[filled] - level) * filled
        level, filled = loads[filled], filled + 1
    each, extra = divmod(remaining, filled)
    return [
        level - load + each + (1 if index < extra else 0) if index < filled else 0
        for index, load in enumerate(loads)
    ]
