"""An admin's decision on a plan above the policy's limits (``AWAITING_APPROVAL``).

Approved, the plan waits for its down payment (``PENDING``), or starts at once when it has
none; declined, it is canceled with the reason "declined". Each decision is audited
(``plan.approved``, ``plan.declined``) and taken under the plan's row lock, so two admins
deciding at once decide once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.audit.services import record as audit
from portal.auth.models import User
from portal.domain import DomainError
from portal.extensions import db
from portal.loans.models import Loan
from portal.plans.activation import activate
from portal.plans.enrollment import PlanNotFound
from portal.plans.models import PlanStatus, RepaymentPlan


class PlanAlreadyDecided(DomainError):
    status_code = 409
    message = _l("This plan has already been decided, or the borrower replaced it.")


@dataclass(frozen=True)
class PlanForApproval:
    plan: RepaymentPlan
    loan_reference: str
    borrower_name: str


def plans_awaiting_approval() -> list[PlanForApproval]:
    """The plans waiting for an admin, oldest consent first. One query."""
    rows = db.session.execute(
        select(RepaymentPlan, Loan.reference, User.name)
        .join(Loan, Loan.id == RepaymentPlan.loan_id)
        .join(User, User.id == RepaymentPlan.borrower_id)
        .where(RepaymentPlan.status == PlanStatus.AWAITING_APPROVAL)
        .order_by(RepaymentPlan.consented_at, RepaymentPlan.id)
    ).all()
    return [PlanForApproval(plan, reference, name) for plan, reference, name in rows]


def _locked_waiting_plan(plan_id: int) -> RepaymentPlan:
    plan = db.session.scalar(
        select(RepaymentPlan)
        .where(RepaymentPlan.id == plan_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if plan is None:
        raise PlanNotFound()
    if plan.status is not PlanStatus.AWAITING_APPROVAL:
        raise PlanAlreadyDecided()
    return plan


def approve_plan(
    plan_id: int, *, admin_id: int, now: datetime, ip_address: str | None
) -> RepaymentPlan:
    """Approve the plan: it waits for its down payment, or starts now without one (the loan
    locked first, as every change of a loan's balance). Raises PlanNotFound,
    PlanAlreadyDecided. Flushes; the caller commits."""
    loan_id = db.session.scalar(select(RepaymentPlan.loan_id).where(RepaymentPlan.id == plan_id))
    if loan_id is None:
        raise PlanNotFound()
    db.session.scalar(select(Loan.id).where(Loan.id == loan_id).with_for_update())
    plan = _locked_waiting_plan(plan_id)
    plan.status = PlanStatus.PENDING
    plan.decided_by = admin_id
    plan.decided_at = now
    db.session.flush()
    audit(
        "plan.approved",
        now=now,
        actor_id=admin_id,
        object_type="repayment_plan",
        object_id=plan.id,
        details={"loan": plan.loan_id, "balance_minor": plan.balance_minor},
        ip_address=ip_address,
    )
    if plan.down_payment_minor == 0:
        activate(plan, now=now)
    return plan


def decline_plan(
    plan_id: int, *, admin_id: int, today: date, now: datetime, ip_address: str | None
) -> RepaymentPlan:
    """Decline the plan: canceled, "declined" (the borrower may choose another offer).
    Raises PlanNotFound, PlanAlreadyDecided. Flushes; the caller commits."""
    plan = _locked_waiting_plan(plan_id)
    plan.status = PlanStatus.CANCELED
    plan.end_reason = "declined"
    plan.ended_on = today
    plan.decided_by = admin_id
    plan.decided_at = now
    db.session.flush()
    audit(
        "plan.declined",
        now=now,
        actor_id=admin_id,
        object_type="repayment_plan",
        object_id=plan.id,
        details={"loan": plan.loan_id, "balance_minor": plan.balance_minor},
        ip_address=ip_address,
    )
    return plan
