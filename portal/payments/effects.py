"""What a booked or reversed payment changes outside the ledger, in the payment's transaction.

Called by the booking code for every payment, whichever way it arrived (a Stripe webhook, the
sandbox, staff): days past due at once, promises to pay kept, the case cured when nothing is
overdue (reopened when a refund makes it overdue again), and no "you are overdue" message left
queued for a loan that no longer is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from portal.collections.cases.refresh import CaseChange, refresh_loan_case
from portal.loans.models import Payment
from portal.messaging.stale import cancel_stale_messages
from portal.plans.monitoring import settle_plans
from portal.timeutil import portfolio_today


@dataclass(frozen=True)
class Effects:
    """What a booking or a reversal changed: the case, and how many messages were withdrawn."""

    case: CaseChange
    messages_cancelled: int = 0


def after_booking(payment: Payment, *, now: datetime) -> Effects:
    """The collection case and the outbox catch up with a payment just booked. Flushes only.

    In the payment's transaction, for its loan: the case's figures and bucket as of the
    portfolio's today (so days past due drop at once), promises to pay kept, the case cured
    when nothing is overdue, and waiting messages that are no longer true cancelled.
    """
    settle_plans(portfolio_today(now), now, loan_id=payment.loan_id)  # a plan paid in full
    case = refresh_loan_case(payment.loan_id, as_of=portfolio_today(now), now=now)
    return Effects(case, cancel_stale_messages(payment.loan_id, now=now))


def after_reversal(loan_id: int, *, now: datetime) -> Effects:
    """The collection case catches up with money taken back out of the ledger. Flushes only.

    A loan overdue again gets its case back (the one the payment cured, reopened, or a new one)
    at the stage its days past due call for; an open case takes the new figures.
    """
    return Effects(refresh_loan_case(loan_id, as_of=portfolio_today(now), now=now, reopen=True))
