"""Step 3: close the open cases whose loan is no longer overdue (cured, paid off, written off)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import and_, case, exists, func, insert, literal, select, update

from portal.collections.models import CaseStatus, CaseTransition, CollectionCase, CollectionPosition
from portal.dbtypes import UTCDateTime
from portal.extensions import db
from portal.loans.models import Loan, LoanStatus
from portal.plans.queries import in_active_plan
from portal.sqlutil import plan_for_bulk, rows_affected

# How a case ends when its loan is no longer overdue, by the loan's status: the run's cure and
# the refresh after a payment (portal/collections/cases/refresh.py) both read this table.
CLOSING: dict[LoanStatus, tuple[CaseStatus, str]] = {
    LoanStatus.PAID_OFF: (CaseStatus.CURED, "paid_off"),
    LoanStatus.WRITTEN_OFF: (CaseStatus.CLOSED, "written_off"),
}
PAID_UP = (CaseStatus.CURED, "paid_up")


def closing(loan_status: LoanStatus) -> tuple[CaseStatus, str]:
    """The case status and close reason for a loan that is no longer overdue."""
    return CLOSING.get(loan_status, PAID_UP)


def transition_reason(close_reason: str) -> str:
    """The 'cured' transition's reason: the close reason in words ("paid_off" -> "paid off")."""
    return close_reason.replace("_", " ")


def cure_cases(as_of: date, now: datetime) -> int:
    """Close open cases whose loan is no longer overdue, each with its 'cured' transition.

    One anti-join: the UPDATE returns what the transitions need ("paid_off" becomes the reason
    "paid off"), and both commit together.
    """
    c = CollectionCase
    plan_for_bulk(whole_table_join=True)
    no_longer_overdue = and_(
        c.status == CaseStatus.OPEN,
        ~exists().where(CollectionPosition.loan_id == c.loan_id),
        ~in_active_plan(c.loan_id),  # in plan: open until the plan is paid (or breaks)
    )
    loan_status = select(Loan.status).where(Loan.id == c.loan_id).scalar_subquery()
    cure = (
        update(c)
        .where(no_longer_overdue)
        .values(
            status=case(
                *((loan_status == s.value, status.value) for s, (status, _) in CLOSING.items()),
                else_=PAID_UP[0].value,
            ),
            closed_on=as_of,
            close_reason=case(
                *((loan_status == s.value, reason) for s, (_, reason) in CLOSING.items()),
                else_=PAID_UP[1],
            ),
            overdue_principal=0,
            overdue_interest=0,
            overdue_fee=0,
            overdue_late_charge=0,
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
                        "reason": transition_reason(row.close_reason),
                        "run_on": as_of,
                        "created_at": now,
                    }
                    for row in returned
                ],
            )
        cured = len(returned)
    db.session.commit()
    return cured
