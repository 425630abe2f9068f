"""What follows when a plan starts: the collection case, the outbox, the borrower told.

A plan that starts puts the loan's open case "in plan" (a transition on its timeline; nothing is
overdue any more, so the daily run neither moves nor cures it while the plan is active), and
cancels the collection messages still waiting for the loan. The borrower gets the plan's
confirmation in the portal and by email (a required notice: no hold or opt-out stops it).
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from sqlalchemy import select

from portal.collections.cases.refresh import refresh_loan_case
from portal.collections.models import CaseStatus, CaseTransition, CollectionCase
from portal.extensions import db
from portal.messaging.stale import cancel_stale_messages
from portal.plans.models import RepaymentPlan
from portal.plans.notices import tell_borrower
from portal.timeutil import portfolio_today

log = logging.getLogger(__name__)


def record_case_transition(
    loan_id: int, kind: str, reason: str, *, as_of: date, now: datetime
) -> CollectionCase | None:
    """Put ``kind`` ("plan", "plan_broken", ...) on the loan's open case's timeline."""
    case = db.session.scalar(
        select(CollectionCase).where(
            CollectionCase.loan_id == loan_id, CollectionCase.status == CaseStatus.OPEN
        )
    )
    if case is not None:
        db.session.add(
            CaseTransition(
                case_id=case.id,
                kind=kind,
                from_stage=case.stage,
                to_stage=case.stage,
                reason=reason,
                run_on=as_of,
                created_at=now,
            )
        )
        db.session.flush()
    return case


def after_activation(plan: RepaymentPlan, *, now: datetime) -> None:
    """The case goes in plan, stale collection messages go, the borrower gets the plan. Flushes."""
    as_of = portfolio_today(now)
    refresh_loan_case(plan.loan_id, as_of=as_of, now=now)
    record_case_transition(plan.loan_id, "plan", "plan started", as_of=as_of, now=now)
    cancel_stale_messages(plan.loan_id, now=now)
    tell_borrower(plan, "plan_confirmation", now=now)
