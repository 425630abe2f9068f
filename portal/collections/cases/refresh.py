"""One loan's collection case catches up with its ledger at once, between two daily runs.

A payment (or a refund) changes what is overdue now, not tomorrow: the loan's position, its
open case's figures and bucket, its promises to pay, and whether the case stays open, is cured,
or (money taken back) opens again. Every rule is the daily run's own (portal/collections/run/):
what is overdue (``positions.overdue_positions``), how a case ends (``cures.closing``), when a
promise is kept (``promises.keep_promises``), the stage a case opens at (``positions.stage_case``).

Runs in the caller's transaction and flushes only. Locks, in this order, after the loan row
the booking already holds: the loan's open case (``FOR UPDATE``), then its position row. The
daily run never locks a loan and commits each step, so the two cannot wait on each other in a
cycle; a case the run cured meanwhile is no longer open when the lock is granted (PostgreSQL
re-reads the row), so it is never cured twice.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Row, delete, insert, select
from sqlalchemy.exc import IntegrityError

from portal.collections.models import (
    CaseStatus,
    CaseTransition,
    CollectionCase,
    CollectionPosition,
    LegalStatus,
)
from portal.collections.run.cases import opened_reason
from portal.collections.run.cures import closing, transition_reason
from portal.collections.run.positions import POSITION_COLUMNS, overdue_positions
from portal.collections.run.promises import keep_promises
from portal.collections.strategy.services import Strategy, current_strategy
from portal.extensions import db
from portal.loans.models import Loan
from portal.plans.queries import in_active_plan

REOPENED_REASON = "payment reversed"


class CaseChange(enum.StrEnum):
    NONE = "none"  # no open case, and none to open
    REFRESHED = "refreshed"  # still overdue: the open case took the new figures
    CURED = "cured"  # nothing overdue any more: the case was cured (or closed)
    IN_PLAN = "in_plan"  # nothing overdue, the balance in an active plan: the case stays open
    OPENED = "opened"  # overdue again after a refund: a new case
    REOPENED = "reopened"  # overdue again after a refund: the case the payment had cured


def refresh_loan_case(
    loan_id: int, *, as_of: date, now: datetime, reopen: bool = False
) -> CaseChange:
    """Bring a loan's position, open case and promises up to date as of ``as_of``.

    ``as_of`` is the portfolio's date (the daily run's calendar). With ``reopen`` (after money
    was taken back), an overdue loan without an open case gets one: its latest case reopened
    if a payment had cured it, else a new one, at the stage its days past due call for.
    Flushes; the caller commits.
    """
    strategy = current_strategy()
    position = db.session.execute(overdue_positions(as_of, strategy, loan_id)).one_or_none()
    db.session.execute(keep_promises(as_of, loan_id=loan_id))
    case = db.session.scalar(
        select(CollectionCase)
        .where(CollectionCase.loan_id == loan_id, CollectionCase.status == CaseStatus.OPEN)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    _store_position(loan_id, position)
    if case is None:
        if position is None or not reopen:
            return CaseChange.NONE
        return _open(loan_id, position, as_of, strategy, now)
    if position is None and db.session.scalar(select(in_active_plan(loan_id))):
        _in_plan(case)
        return CaseChange.IN_PLAN
    if position is None:
        _cure(case, as_of, now)
        return CaseChange.CURED
    _take_figures(case, position)
    db.session.flush()
    return CaseChange.REFRESHED


def _store_position(loan_id: int, position: Row | None) -> None:
    """The run's working row for the loan, as of now (the next run rebuilds them all)."""
    db.session.execute(delete(CollectionPosition).where(CollectionPosition.loan_id == loan_id))
    if position is not None:
        db.session.execute(
            insert(CollectionPosition).values(dict(zip(POSITION_COLUMNS, position, strict=True)))
        )


def _take_figures(case: CollectionCase, position: Row) -> None:
    values = dict(zip(POSITION_COLUMNS, position, strict=True))
    case.bucket = values["bucket"]
    case.oldest_unpaid_due = values["oldest_unpaid_due"]
    case.overdue_principal = values["overdue_principal"]
    case.overdue_interest = values["overdue_interest"]
    case.overdue_fee = values["overdue_fee"]
    case.overdue_late_charge = values["overdue_late_charge"]


def _in_plan(case: CollectionCase) -> None:
    """Nothing is overdue while the plan is kept: no figures, no days past due."""
    case.oldest_unpaid_due = None
    case.overdue_principal = case.overdue_interest = case.overdue_fee = 0
    case.overdue_late_charge = 0
    db.session.flush()


def _cure(case: CollectionCase, as_of: date, now: datetime) -> None:
    loan_status = db.session.execute(
        select(Loan.status).where(Loan.id == case.loan_id)
    ).scalar_one()
    status, reason = closing(loan_status)
    from_stage = case.stage
    case.status = status
    case.closed_on = as_of
    case.close_reason = reason
    case.overdue_principal = case.overdue_interest = case.overdue_fee = 0
    case.overdue_late_charge = 0
    db.session.add(
        CaseTransition(
            case_id=case.id,
            kind="cured",
            from_stage=from_stage,
            to_stage=None,
            reason=transition_reason(reason),
            run_on=as_of,
            created_at=now,
        )
    )
    db.session.flush()


def _open(
    loan_id: int, position: Row, as_of: date, strategy: Strategy, now: datetime
) -> CaseChange:
    values = dict(zip(POSITION_COLUMNS, position, strict=True))
    latest = db.session.scalar(
        select(CollectionCase)
        .where(CollectionCase.loan_id == loan_id)
        .order_by(CollectionCase.id.desc())
        .limit(1)
        .with_for_update()
    )
    if latest is not None and latest.status is CaseStatus.CURED:
        case, change, reason = latest, CaseChange.REOPENED, REOPENED_REASON
        case.status, case.closed_on, case.close_reason = CaseStatus.OPEN, None, None
    else:
        loan = db.session.execute(select(Loan).where(Loan.id == loan_id)).scalar_one()
        case = CollectionCase(
            loan_id=loan_id,
            borrower_id=loan.borrower_id,
            status=CaseStatus.OPEN,
            opened_on=as_of,
            currency=loan.currency,
            legal_status=LegalStatus.NONE,
            created_at=now,
        )
        change, reason = CaseChange.OPENED, None
    case.stage = values["dpd_stage"]
    case.stage_entered_on = as_of
    case.strategy_version = strategy.version
    _take_figures(case, position)
    try:
        with db.session.begin_nested():  # the run may be opening one for the loan right now
            db.session.add(case)
    except IntegrityError:  # it did: that case is the loan's open case
        opened = db.session.execute(
            select(CollectionCase)
            .where(CollectionCase.loan_id == loan_id, CollectionCase.status == CaseStatus.OPEN)
            .with_for_update()
        ).scalar_one()
        _take_figures(opened, position)
        db.session.flush()
        return CaseChange.REFRESHED
    db.session.execute(
        insert(CaseTransition).values(
            case_id=case.id,
            kind=change.value,
            from_stage=None,
            to_stage=case.stage,
            reason=reason or opened_reason(values["days_past_due"]),
            run_on=as_of,
            created_at=now,
        )
    )
    return change
