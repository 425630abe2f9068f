"""Plans on the collector's case page: the loan's plan and its progress, and a proposal.

A collector proposes one of the offers the case page shows; the borrower is told in the portal
and by email, and only their own consent (on the offers page) makes a plan of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from portal.collections.cases.access import Viewer, lock_open_case
from portal.extensions import db
from portal.loans.models import Installment
from portal.plans.enrollment import plan_history, propose
from portal.plans.models import LIVE_PLAN_STATUSES, PlanStatus, RepaymentPlan
from portal.plans.notices import tell_borrower
from portal.plans.pages import PlanProgress, progress_of


@dataclass(frozen=True)
class CasePlan:
    """The case loan's plan as staff see it: the live one, else the latest that ended."""

    progress: PlanProgress | None
    active_plan: bool  # the loan is "in plan"
    plans_last_year: int  # plans started in the last 365 days (the policy's limit)

    @property
    def plan(self) -> RepaymentPlan | None:
        return self.progress.plan if self.progress else None

    @property
    def may_propose(self) -> bool:
        """No plan the borrower agreed to is live: a proposal may be made (or replaced)."""
        plan = self.plan
        return (
            plan is None
            or plan.status.value not in LIVE_PLAN_STATUSES
            or (plan.status is PlanStatus.PROPOSED)
        )


def case_plan(loan_id: int, *, now: datetime) -> CasePlan:
    """The loan's plan for its case page, with its installments. Four queries at most."""
    history = plan_history(loan_id, now)
    plan = history.live or db.session.scalar(
        select(RepaymentPlan)
        .where(RepaymentPlan.loan_id == loan_id)
        .order_by(RepaymentPlan.created_at.desc(), RepaymentPlan.id.desc())
        .limit(1)
    )
    progress = None
    if plan is not None:
        rows = db.session.scalars(select(Installment).where(Installment.plan_id == plan.id))
        progress = progress_of(plan, list(rows))
    return CasePlan(progress, history.active, history.started_last_year)


def propose_for_case(
    case_id: int,
    *,
    viewer: Viewer,
    term: str,
    quoted_balance_minor: int,
    today: date,
    now: datetime,
    ip_address: str | None,
) -> RepaymentPlan:
    """Propose the offer ``term`` (priced at ``quoted_balance_minor``) for the open case's loan,
    if ``viewer`` may work on the case, and tell the borrower. Raises as ``lock_open_case`` and
    ``enrollment.propose`` do. Flushes; the caller commits."""
    case = lock_open_case(case_id, viewer)
    plan = propose(
        loan_id=case.loan_id,
        term=term,
        quoted_balance_minor=quoted_balance_minor,
        actor_id=viewer.id,
        today=today,
        now=now,
        ip_address=ip_address,
    )
    tell_borrower(plan, "plan_proposed", now=now)
    return plan
