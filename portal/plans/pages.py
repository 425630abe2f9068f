"""What the borrower's plan pages read, and the down payment they open.

A plan's progress is read from the loan's installments already loaded (``plan_id`` rows), so
the dashboard adds one query for all the borrower's plans, and the plan page one for its plan.
Before a plan is active its schedule is the consented one (``RepaymentPlan.schedule``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.domain import DomainError
from portal.extensions import db
from portal.loans.models import Installment, Loan
from portal.payments.models import PaymentAttempt, PayOption
from portal.payments.services import open_attempt
from portal.plans.enrollment import PlanNotFound
from portal.plans.models import LIVE_PLAN_STATUSES, PlanStatus, RepaymentPlan
from portal.plans.offers import Offer

# Plans that have installments of their own (restructured), as opposed to a consented schedule.
STARTED = (PlanStatus.ACTIVE, PlanStatus.COMPLETED, PlanStatus.BROKEN)


class PaymentUnderWay(DomainError):
    status_code = 409
    message = _l(
        "A payment of this amount is already under way on this loan. Finish it, or wait a few "
        "minutes and try again."
    )


@dataclass(frozen=True)
class ScheduledPayment:
    """One payment of a plan as the borrower sees it."""

    number: int
    due_date: date
    amount_minor: int
    paid_minor: int
    outstanding_minor: int

    def status(self, today: date) -> str:
        """ "paid", "overdue", "partly_paid" or "upcoming" (the loan page's words)."""
        if self.outstanding_minor == 0:
            return "paid"
        if self.due_date < today:
            return "overdue"
        return "partly_paid" if self.paid_minor > 0 else "upcoming"


@dataclass(frozen=True)
class PlanProgress:
    plan: RepaymentPlan
    payments: list[ScheduledPayment]

    @property
    def paid_count(self) -> int:
        return sum(1 for p in self.payments if p.outstanding_minor == 0)

    @property
    def total_minor(self) -> int:
        return sum(p.amount_minor for p in self.payments)

    @property
    def left_minor(self) -> int:
        return sum(p.outstanding_minor for p in self.payments)

    @property
    def next_payment(self) -> ScheduledPayment | None:
        return next((p for p in self.payments if p.outstanding_minor > 0), None)


def progress_of(plan: RepaymentPlan, installments: list[Installment]) -> PlanProgress:
    """The plan's payments: its installment rows once started (``installments``: the loan's,
    loaded), else the consented schedule, nothing paid."""
    if plan.status in STARTED:
        rows = sorted((i for i in installments if i.plan_id == plan.id), key=lambda i: i.sequence)
        payments = [
            ScheduledPayment(n, i.due_date, i.total_due, i.total_paid, i.outstanding)
            for n, i in enumerate(rows, start=1)
        ]
    else:
        payments = [
            ScheduledPayment(
                n, date.fromisoformat(s["due_date"]), s["amount_minor"], 0, s["amount_minor"]
            )
            for n, s in enumerate(plan.schedule, start=1)
        ]
    return PlanProgress(plan, payments)


def plan_of_loan_page(loan_id: int) -> RepaymentPlan | None:
    """The plan the loan's plan page shows: the live one the borrower agreed to, else the
    latest one that ended after their consent. A proposal alone is on the offers page."""
    return db.session.scalar(
        select(RepaymentPlan)
        .where(
            RepaymentPlan.loan_id == loan_id,
            RepaymentPlan.consented_at.is_not(None),
            RepaymentPlan.status != PlanStatus.PROPOSED,
        )
        .order_by(
            RepaymentPlan.status.in_(LIVE_PLAN_STATUSES).desc(),
            RepaymentPlan.created_at.desc(),
            RepaymentPlan.id.desc(),
        )
        .limit(1)
    )


def live_plans_of_borrower(borrower_id: int) -> dict[int, RepaymentPlan]:
    """The borrower's live plans (proposed, waiting or active) by loan id. One query."""
    plans = db.session.scalars(
        select(RepaymentPlan).where(
            RepaymentPlan.borrower_id == borrower_id,
            RepaymentPlan.status.in_(LIVE_PLAN_STATUSES),
        )
    )
    return {plan.loan_id: plan for plan in plans}


def proposed_offer(proposal: RepaymentPlan) -> Callable[[Offer], bool]:
    """Whether an offer is the one our team proposed (its term; the price is today's)."""
    return lambda offer: (
        offer.term.installments == proposal.installment_count
        and offer.term.frequency is proposal.frequency
    )


def open_down_payment(loan: Loan, *, now: datetime) -> PaymentAttempt:
    """The payment attempt for the down payment of the loan's plan waiting for it (the
    borrower's own ``loan``): the one already open, or a new one, recorded on the plan.

    Raises PlanNotFound (no plan waits for a down payment), PaymentUnderWay (another payment
    of the same amount is open on the loan), and what ``open_attempt`` raises. Flushes.
    """
    plan = db.session.scalar(
        select(RepaymentPlan)
        .where(RepaymentPlan.loan_id == loan.id, RepaymentPlan.status == PlanStatus.PENDING)
        .with_for_update()
    )
    if plan is None or plan.down_payment_minor <= 0:
        raise PlanNotFound()
    attempt = open_attempt(
        loan, option=PayOption.PLAN_DOWN_PAYMENT, amount_minor=plan.down_payment_minor, now=now
    )
    if attempt.option is not PayOption.PLAN_DOWN_PAYMENT:
        raise PaymentUnderWay()
    plan.down_payment_attempt_id = attempt.id
    db.session.flush()
    return attempt
