"""SQL conditions about plans that other capabilities' queries use (the run, the queue)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists

from portal.plans.models import PlanStatus, RepaymentPlan


def in_active_plan(loan_id_column) -> ColumnElement[bool]:
    """True where the loan (a column or value) has an active repayment plan."""
    return exists().where(
        RepaymentPlan.loan_id == loan_id_column, RepaymentPlan.status == PlanStatus.ACTIVE
    )
