"""The customer panel beside a conversation: who the borrower is and where their loans stand.

Loans come from ``portal.loans.services`` (the same positions the borrower's own pages show, on
the borrower's calendar); the collection case from the case table. A fixed number of queries,
whatever the number of loans.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from portal.auth.models import BorrowerProfile, Channel, ContactPreference, User
from portal.collections.models import CaseStatus, CollectionCase
from portal.extensions import db
from portal.loans.models import LoanStatus
from portal.loans.services import LoanPosition, loan_position, loans_of_borrower
from portal.timeutil import local_today


@dataclass(frozen=True)
class CaseSummary:
    case_id: int
    loan_id: int
    stage: int
    days_past_due: int
    collector: str | None


@dataclass(frozen=True)
class CustomerPanel:
    borrower: User
    profile: BorrowerProfile | None
    positions: list[LoanPosition]
    cases: list[CaseSummary]
    sms_opted_out: bool

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
    positions = [
        loan_position(loan, today)
        for loan in loans_of_borrower(borrower_id)
        if loan.status is LoanStatus.ACTIVE
    ]
    rows = db.session.execute(
        select(CollectionCase, User.name)
        .outerjoin(User, User.id == CollectionCase.assigned_to)
        .where(CollectionCase.borrower_id == borrower_id, CollectionCase.status == CaseStatus.OPEN)
        .order_by(CollectionCase.id)
    ).all()
    cases = [
        CaseSummary(case.id, case.loan_id, case.stage, case.days_past_due, collector)
        for case, collector in rows
    ]
    sms_opted_out = bool(
        db.session.scalar(
            select(ContactPreference.id).where(
                ContactPreference.borrower_id == borrower_id,
                ContactPreference.channel == Channel.SMS,
                ContactPreference.allowed.is_(False),
            )
        )
    )
    return CustomerPanel(
        borrower=borrower,
        profile=borrower.borrower_profile,
        positions=positions,
        cases=cases,
        sms_opted_out=sms_opted_out,
    )
