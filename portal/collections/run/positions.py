"""Step 1: ``collection_position``, every overdue loan's oldest unpaid due date, days past due,
bucket, stage by days past due and overdue amounts by component, rebuilt from scratch."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Select, case, exists, func, insert, or_, select

from portal.collections.models import CollectionPosition
from portal.collections.strategy.services import Strategy
from portal.extensions import db
from portal.loans.models import Installment, Loan, LoanStatus
from portal.sqlutil import analyze, days_since, empty_table, plan_for_bulk


def bucket_case(dpd, strategy: Strategy):
    whens = [(dpd >= b["min_dpd"], b["name"]) for b in reversed(strategy.buckets)]
    return case(*whens, else_=strategy.buckets[0]["name"])


def stage_case(dpd, strategy: Strategy):
    # Stages 1-3 follow days past due; stage 4 (legal) needs an admin's approval.
    return case(
        (dpd >= strategy.stage(3)["entry_dpd"], 3),
        (dpd >= strategy.stage(2)["entry_dpd"], 2),
        else_=1,
    )


POSITION_COLUMNS = (
    "loan_id",
    "oldest_unpaid_due",
    "days_past_due",
    "bucket",
    "dpd_stage",
    "overdue_principal",
    "overdue_interest",
    "overdue_fee",
    "overdue_late_charge",
)


def overdue_positions(as_of: date, strategy: Strategy, loan_id: int | None = None) -> Select:
    """The positions of overdue active loans on ``as_of`` (all, or one loan), as SELECT rows
    in ``POSITION_COLUMNS`` order: the one definition of "overdue" for the run and for the
    refresh after a payment (installments past due after the grace period, by component,
    late charges of those installments included)."""
    cutoff = as_of - timedelta(days=strategy.grace_days)
    unpaid = or_(
        Installment.principal_paid < Installment.principal_due,
        Installment.interest_paid < Installment.interest_due,
        Installment.fee_paid < Installment.fee_due,
    )
    # Loans that are not active (paid off, written off) are a small minority: excluding them
    # with an anti-join is far cheaper than joining every installment to its loan.
    not_active = exists().where(Loan.id == Installment.loan_id, Loan.status != LoanStatus.ACTIVE)
    overdue = select(
        Installment.loan_id.label("loan_id"),
        func.min(Installment.due_date).label("oldest"),
        func.sum(Installment.principal_due - Installment.principal_paid).label("principal"),
        func.sum(Installment.interest_due - Installment.interest_paid).label("interest"),
        func.sum(Installment.fee_due - Installment.fee_paid).label("fee"),
        func.sum(Installment.late_charge_due - Installment.late_charge_paid).label("late_charge"),
    ).where(Installment.due_date < cutoff, unpaid, ~not_active)
    if loan_id is not None:
        overdue = overdue.where(Installment.loan_id == loan_id)
    per_loan = overdue.group_by(Installment.loan_id).subquery()
    dpd = days_since(as_of, per_loan.c.oldest)
    return select(
        per_loan.c.loan_id,
        per_loan.c.oldest,
        dpd,
        bucket_case(dpd, strategy),
        stage_case(dpd, strategy),
        per_loan.c.principal,
        per_loan.c.interest,
        per_loan.c.fee,
        per_loan.c.late_charge,
    )


def rebuild_positions(as_of: date, strategy: Strategy) -> None:
    """Every active loan with an installment past due (after the grace period), by component
    (late charges of those installments included)."""
    empty_table(CollectionPosition)
    plan_for_bulk()
    db.session.execute(
        insert(CollectionPosition).from_select(
            list(POSITION_COLUMNS), overdue_positions(as_of, strategy)
        )
    )
    db.session.commit()
    analyze(CollectionPosition)  # refilled from scratch: its statistics are always stale
    db.session.commit()
