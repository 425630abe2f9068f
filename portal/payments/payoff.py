"""Paying a loan off today: the interest not yet earned is dropped (the payoff rebate).

``LoanPosition.payoff`` counts, for installments due after the next due date, only their
principal. Booking that amount through the waterfall alone would pay those installments'
interest first and leave principal owing; so when a payoff payment is booked, the unearned
interest and fees of those installments are first waived as ``PAYOFF_REBATE`` adjustments (the
one waiver, audited), and the payment then settles everything. The pay page's preview shows
the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.auth.models import User
from portal.extensions import db
from portal.loans.adjustments import waive
from portal.loans.models import AdjustmentKind, Component, Installment, Loan
from portal.loans.services import LoanPosition, loan_position
from portal.payments.models import PaymentAttempt, PayOption
from portal.timeutil import local_today

REBATE_REASON = _l("Paid off early: interest not yet earned is not charged.")


@dataclass(frozen=True)
class Rebate:
    installment: Installment
    component: Component
    amount_minor: int


def payoff_rebates(position: LoanPosition) -> list[Rebate]:
    """What paying off on ``position.today`` drops: all but principal on installments due after
    the next due date (exactly what ``LoanPosition.payoff`` leaves out)."""
    upcoming = position.next_installment
    horizon = upcoming.due_date if upcoming else position.today
    return [
        Rebate(installment, component, installment.outstanding_of(component))
        for installment in position.loan.installments
        if installment.due_date > horizon
        for component in Component
        if component is not Component.PRINCIPAL and installment.outstanding_of(component) > 0
    ]


def payoff_parts(
    position: LoanPosition, waterfall: Sequence[Component]
) -> list[tuple[Installment, Component, int]]:
    """How the payoff amount is allocated: every installment's remaining amount in full, after
    the rebate, component by component in ``waterfall`` order (oldest installment first)."""
    dropped = {(r.installment.id, r.component): r.amount_minor for r in payoff_rebates(position)}
    parts = []
    for installment in sorted(position.loan.installments, key=lambda i: (i.due_date, i.sequence)):
        for component in waterfall:
            owed = installment.outstanding_of(component) - dropped.get(
                (installment.id, component), 0
            )
            if owed > 0:
                parts.append((installment, component, owed))
    return parts


def apply_payoff_rebate(attempt: PaymentAttempt, *, now: datetime) -> int:
    """Before a payoff attempt is booked: waive the unearned interest, as of the borrower's
    local date at ``now``, if the attempt's amount then settles the loan. Returns what was
    waived (0 if the amount no longer settles it: the payment is then booked as it is).
    Flushes; runs in the booking's transaction."""
    if attempt.option not in (PayOption.PAYOFF, PayOption.OTHER):
        # What is overdue or the next installment never reaches past the next due date, so
        # those amounts leave no later installment to drop interest from: no reads needed.
        return 0
    loan = db.session.get(Loan, attempt.loan_id)
    borrower = db.session.scalar(select(User).where(User.id == attempt.borrower_id))
    if loan is None or borrower is None:
        return 0
    position = loan_position(loan, local_today(borrower.timezone, now))
    if attempt.amount_minor < position.payoff:
        return 0
    rebates = payoff_rebates(position)
    for rebate in rebates:
        waive(
            rebate.installment,
            rebate.component,
            rebate.amount_minor,
            reason=str(REBATE_REASON),
            now=now,
            actor_id=None,
            kind=AdjustmentKind.PAYOFF_REBATE,
        )
    return sum(rebate.amount_minor for rebate in rebates)
