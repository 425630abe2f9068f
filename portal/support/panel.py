"""The customer panel beside a conversation: who the borrower is and where their loans stand.

Loans come from ``portal.loans.services`` (the same positions the borrower's own pages show, on
the borrower's calendar); the collection case from the case table; the live plan's progress
from ``portal.plans.pages`` (read from the loans' installments already loaded). One query per
kind (cases, plans, payments, promises, complaints, holds, contact preferences): a fixed number
whatever the number of loans or payments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from portal.auth.models import BorrowerProfile, Channel, ContactPreference, User
from portal.collections.models import CaseStatus, CollectionCase, PromiseStatus, PromiseToPay
from portal.complaints.lifecycle import OPEN_STATUSES
from portal.complaints.models import Complaint
from portal.extensions import db
from portal.loans.models import Loan, LoanStatus, Payment
from portal.loans.services import LoanPosition, loan_position, loans_of_borrower
from portal.messaging.facts import hold_in_force
from portal.messaging.models import ContactHold
from portal.payments.models import Refund
from portal.payments.reversal import COUNTED_STATUSES
from portal.plans.models import PlanStatus, RepaymentPlan
from portal.plans.pages import PlanProgress, progress_of
from portal.timeutil import local_today

RECENT_PAYMENTS = 5
# The plans an agent can talk about: consented and waiting for the down payment, or running.
PANEL_PLAN_STATUSES = (PlanStatus.PENDING, PlanStatus.ACTIVE)


@dataclass(frozen=True)
class CaseSummary:
    case_id: int
    loan_id: int
    stage: int
    days_past_due: int
    collector: str | None


@dataclass(frozen=True)
class PlanSummary:
    loan_reference: str
    progress: PlanProgress


@dataclass(frozen=True)
class RecentPayment:
    payment: Payment
    loan_reference: str
    refunded_minor: int  # held by pending or succeeded refunds

    @property
    def state(self) -> str:
        """ "booked", "partly_refunded" or "refunded" (payments' PAYMENT_STATE_LABELS)."""
        if self.refunded_minor <= 0:
            return "booked"
        if self.refunded_minor >= self.payment.amount_minor:
            return "refunded"
        return "partly_refunded"


@dataclass(frozen=True)
class OpenPromise:
    promise: PromiseToPay
    loan_reference: str


@dataclass(frozen=True)
class CustomerPanel:
    borrower: User
    profile: BorrowerProfile | None
    positions: list[LoanPosition]
    cases: list[CaseSummary]
    plans: list[PlanSummary]
    payments: list[RecentPayment]
    promises: list[OpenPromise]
    complaints: list[Complaint]
    holds: list[ContactHold]
    # Every channel, allowed unless the borrower switched it off.
    channels_allowed: dict[Channel, bool]

    @property
    def sms_opted_out(self) -> bool:
        return not self.channels_allowed[Channel.SMS]

    @property
    def overdue_by_currency(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for position in self.positions:
            currency = position.loan.currency
            totals[currency] = totals.get(currency, 0) + position.overdue
        return {c: amount for c, amount in totals.items() if amount}

    @property
    def days_past_due(self) -> int:
        return max((p.days_past_due for p in self.positions), default=0)


def customer_panel(borrower_id: int, *, now: datetime) -> CustomerPanel:
    """The panel for the borrower of a conversation the viewer may already read."""
    borrower = db.session.get_one(User, borrower_id)
    today = local_today(borrower.timezone, now)
    loans = loans_of_borrower(borrower_id)
    positions = [loan_position(loan, today) for loan in loans if loan.status is LoanStatus.ACTIVE]
    return CustomerPanel(
        borrower=borrower,
        profile=borrower.borrower_profile,
        positions=positions,
        cases=_open_cases(borrower_id),
        plans=_live_plans(borrower_id, {loan.id: loan for loan in loans}),
        payments=_recent_payments(borrower_id),
        promises=_open_promises(borrower_id),
        complaints=_open_complaints(borrower_id),
        holds=_holds_in_force(borrower_id, now),
        channels_allowed=_channels_allowed(borrower_id),
    )


def _open_cases(borrower_id: int) -> list[CaseSummary]:
    rows = db.session.execute(
        select(CollectionCase, User.name)
        .outerjoin(User, User.id == CollectionCase.assigned_to)
        .where(CollectionCase.borrower_id == borrower_id, CollectionCase.status == CaseStatus.OPEN)
        .order_by(CollectionCase.id)
    ).all()
    return [
        CaseSummary(case.id, case.loan_id, case.stage, case.days_past_due, collector)
        for case, collector in rows
    ]


def _live_plans(borrower_id: int, loans: dict[int, Loan]) -> list[PlanSummary]:
    """Pending or active plans, with their progress from the loans' installments (loaded)."""
    plans = db.session.scalars(
        select(RepaymentPlan)
        .where(
            RepaymentPlan.borrower_id == borrower_id,
            RepaymentPlan.status.in_(PANEL_PLAN_STATUSES),
        )
        .order_by(RepaymentPlan.id)
    )
    return [
        PlanSummary(
            loans[plan.loan_id].reference, progress_of(plan, loans[plan.loan_id].installments)
        )
        for plan in plans
    ]


def _recent_payments(borrower_id: int) -> list[RecentPayment]:
    refunded = (
        select(func.coalesce(func.sum(Refund.amount_minor), 0))
        .where(Refund.payment_id == Payment.id, Refund.status.in_(COUNTED_STATUSES))
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(Payment, Loan.reference, refunded)
        .join(Loan, Loan.id == Payment.loan_id)
        .where(Loan.borrower_id == borrower_id)
        .order_by(Payment.received_at.desc(), Payment.id.desc())
        .limit(RECENT_PAYMENTS)
    ).all()
    return [RecentPayment(payment, reference, held) for payment, reference, held in rows]


def _open_promises(borrower_id: int) -> list[OpenPromise]:
    rows = db.session.execute(
        select(PromiseToPay, Loan.reference)
        .join(CollectionCase, CollectionCase.id == PromiseToPay.case_id)
        .join(Loan, Loan.id == CollectionCase.loan_id)
        .where(
            CollectionCase.borrower_id == borrower_id,
            PromiseToPay.status == PromiseStatus.PENDING,
        )
        .order_by(PromiseToPay.promised_on, PromiseToPay.id)
    ).all()
    return [OpenPromise(promise, reference) for promise, reference in rows]


def _open_complaints(borrower_id: int) -> list[Complaint]:
    return list(
        db.session.scalars(
            select(Complaint)
            .where(Complaint.borrower_id == borrower_id, Complaint.status.in_(OPEN_STATUSES))
            .order_by(Complaint.received_at, Complaint.id)
        )
    )


def _holds_in_force(borrower_id: int, now: datetime) -> list[ContactHold]:
    return list(
        db.session.scalars(
            select(ContactHold)
            .where(ContactHold.borrower_id == borrower_id, hold_in_force(now))
            .order_by(ContactHold.opened_at, ContactHold.id)
        )
    )


def _channels_allowed(borrower_id: int) -> dict[Channel, bool]:
    switched: dict[Channel, bool] = {
        channel: allowed
        for channel, allowed in db.session.execute(
            select(ContactPreference.channel, ContactPreference.allowed).where(
                ContactPreference.borrower_id == borrower_id
            )
        )
    }
    return {channel: switched.get(channel, True) for channel in Channel}
