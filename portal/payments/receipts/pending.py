"""Email receipts are sent after the booking, not in it.

A webhook books a payment in a few statements and answers Stripe at once; rendering the
receipt for the borrower's language, running it past the contact rules and writing it to the
outbox is work the booking does not need to wait for. The background task ``payments.receipts``
(every few seconds, in the in-process worker or Celery beat) finds the payments booked from the
processor that have no receipt yet and queues one each; ``send_receipt``'s dedupe key makes a
second pass, or two workers, queue nothing more.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import String, cast, exists, literal, select

from portal.extensions import db
from portal.loans.models import Payment
from portal.messaging.models import Message
from portal.payments.models import PaymentAttempt
from portal.payments.receipts.services import send_receipt

# A payment older than this without a receipt is not mailed any more (a late receipt for an
# old payment would confuse more than help); its receipt stays on the portal.
RECEIPT_WINDOW = timedelta(days=3)
BATCH = 200


def payments_awaiting_receipt(now: datetime, *, limit: int = BATCH) -> list[Payment]:
    """Payments the borrower made through the portal recently, with no receipt queued yet."""
    receipt_key = literal("receipt:") + cast(Payment.id, String)
    return list(
        db.session.scalars(
            select(Payment)
            .join(PaymentAttempt, PaymentAttempt.payment_id == Payment.id)
            .where(
                Payment.created_at >= now - RECEIPT_WINDOW,
                ~exists().where(Message.dedupe_key == receipt_key),
            )
            .order_by(Payment.id)
            .limit(limit)
        )
    )


def send_pending_receipts(now: datetime) -> int:
    """Queue the missing receipts, committing each; returns how many were queued."""
    queued = 0
    for payment in payments_awaiting_receipt(now):
        if send_receipt(payment, now=now) is not None:
            queued += 1
        db.session.commit()
    return queued
