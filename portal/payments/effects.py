"""What a booked or reversed payment changes outside the ledger, in the payment's transaction.

Called by the booking code for every payment, whichever way it arrived (a Stripe webhook, the
sandbox, staff): days past due at once, promises to pay kept, the case cured when nothing is
overdue (reopened when a refund makes it overdue again), and no "you are overdue" message left
queued for a loan that no longer is.
"""

from __future__ import annotations

from datetime import datetime

from portal.loans.models import Payment


def after_booking(payment: Payment, *, now: datetime) -> None:
    """The collection case and the outbox catch up with a payment just booked. Flushes only."""


def after_reversal(loan_id: int, *, now: datetime) -> None:
    """The collection case catches up with money taken back out of the ledger. Flushes only."""
