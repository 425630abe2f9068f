"""Messages that stopped being true before they left: withdrawn, never sent.

A payment can land between the moment a message is queued and the moment a worker sends it. A
collection contact (an overdue notice, a lawyer letter, a message to an emergency contact) for
a loan with nothing past due any more, or a due reminder for an installment already paid, is
cancelled with its reason (``Message.cancel_reason``, shown in the message log and on the case
timeline). Two callers share the rule: the booking of a payment (``cancel_stale_messages``, at
once) and the dispatcher (``stale_reasons`` on every claim, in case a payment was booked while
the message was being claimed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import select

from portal.auth.models import User
from portal.extensions import db
from portal.loans.models import Installment, Loan
from portal.loans.services import days_past_due, oldest_unpaid_due_dates
from portal.messaging.models import ContactKind, Message, MessageStatus
from portal.messaging.reminders import REMINDER_PURPOSES, reminded_installment
from portal.timeutil import local_today

# Waiting to leave: queued (deferred ones too: queued with a later ``not_before``) or failed
# and waiting for a retry. A message being sent belongs to its worker, which checks again.
PENDING = (MessageStatus.QUEUED, MessageStatus.FAILED)
NOT_OVERDUE = "not_overdue"
INSTALLMENT_PAID = "installment_paid"


def stale_reasons(
    messages: Sequence[Message], *, now: datetime, timezones: Mapping[int, str]
) -> dict[int, str]:
    """Which of ``messages`` are no longer true at ``now``, by message id, with the reason.

    ``timezones`` maps each borrower to their zone: "overdue" is judged on the borrower's own
    calendar, as the notice was (``loan_position``). At most two queries for any number of
    messages.
    """
    collection = [m for m in messages if m.kind is ContactKind.COLLECTION and m.loan_id]
    reminders = {
        m.id: reminded_installment(m.dedupe_key) for m in messages if m.purpose in REMINDER_PURPOSES
    }
    reasons: dict[int, str] = {}
    if collection:
        oldest = oldest_unpaid_due_dates({m.loan_id for m in collection if m.loan_id})
        for message in collection:
            today = local_today(timezones[message.borrower_id], now)
            if days_past_due(oldest.get(message.loan_id or 0), today) == 0:
                reasons[message.id] = NOT_OVERDUE
    installment_ids = {i for i in reminders.values() if i is not None}
    if installment_ids:
        paid = set(
            db.session.scalars(
                select(Installment.id).where(
                    Installment.id.in_(installment_ids), Installment.outstanding <= 0
                )
            )
        )
        reasons.update(
            {message_id: INSTALLMENT_PAID for message_id, i in reminders.items() if i in paid}
        )
    return reasons


def cancel(message: Message, reason: str) -> None:
    """Withdraw a message that has not left: it will never be sent."""
    message.status = MessageStatus.CANCELLED
    message.cancel_reason = reason
    message.claim_token = None


def cancel_stale_messages(loan_id: int, *, now: datetime) -> int:
    """Cancel the loan's waiting messages that are no longer true; returns how many. Flushes.

    Runs in the payment's transaction, right after the booking.
    """
    waiting = list(
        db.session.scalars(
            select(Message)
            .where(Message.loan_id == loan_id, Message.status.in_(PENDING))
            .order_by(Message.id)
            .with_for_update(skip_locked=True)  # a row a worker is claiming is its to check
        )
    )
    if not waiting:
        return 0
    timezone = db.session.scalar(
        select(User.timezone).join(Loan, Loan.borrower_id == User.id).where(Loan.id == loan_id)
    )
    reasons = stale_reasons(
        waiting, now=now, timezones={m.borrower_id: timezone or "UTC" for m in waiting}
    )
    for message in waiting:
        if message.id in reasons:
            cancel(message, reasons[message.id])
    db.session.flush()
    return len(reasons)
