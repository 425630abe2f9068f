"""Chargebacks: while a borrower disputes a payment with their bank, collection pauses.

``charge.dispute.created`` records the dispute and opens a dispute hold through the contact
rules (the step 2 guard then pauses reminders and collection contact); ``charge.dispute.closed``
records the result and lifts that hold. Both are idempotent on the dispute's id.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select

from portal.extensions import db
from portal.loans.models import Loan, Payment
from portal.messaging.contact_controls import close_hold, open_hold
from portal.messaging.models import ContactHold, HoldReason
from portal.payments.events.errors import EventNotReady
from portal.payments.models import Dispute, IssueKind, PaymentAttempt, PaymentIssue

HOLD_OPENED = "hold_opened"
HOLD_CLOSED = "hold_closed"
ALREADY_RECORDED = "already_recorded"
FLAGGED = "flagged"


def _payment_of(intent_id: object) -> Payment | None:
    if not isinstance(intent_id, str):
        return None
    return db.session.scalar(select(Payment).where(Payment.external_reference == intent_id))


def _dispute(dispute_id: object) -> Dispute | None:
    if not isinstance(dispute_id, str):
        return None
    return db.session.scalar(
        select(Dispute).where(Dispute.processor_dispute_id == dispute_id).with_for_update()
    )


def on_dispute_created(obj: Mapping, now: datetime) -> str:
    if _dispute(obj.get("id")) is not None:
        return ALREADY_RECORDED
    intent_id = obj.get("payment_intent")
    payment = _payment_of(intent_id)
    if payment is None:
        known = isinstance(intent_id, str) and db.session.scalar(
            select(PaymentAttempt.id).where(PaymentAttempt.intent_id == intent_id)
        )
        if known:
            raise EventNotReady(f"dispute on {intent_id}, whose payment is not booked yet")
        db.session.add(
            PaymentIssue(
                kind=IssueKind.UNKNOWN_INTENT,
                detail=f"Dispute {obj.get('id')!s:.255} on a payment the ledger does not have "
                f"(PaymentIntent {intent_id!s:.255}).",
                created_at=now,
            )
        )
        return FLAGGED
    borrower_id = db.session.execute(
        select(Loan.borrower_id).where(Loan.id == payment.loan_id)
    ).scalar_one()
    hold = open_hold(
        borrower_id,
        HoldReason.DISPUTE,
        str(obj["id"])[:500],  # the processor's reference, for staff to look it up
        actor_id=None,
        now=now,
        ip_address=None,
    )
    db.session.add(
        Dispute(
            processor_dispute_id=str(obj["id"])[:255],
            payment_id=payment.id,
            amount_minor=int(obj.get("amount") or 0),
            currency=str(obj.get("currency") or payment.currency).upper()[:3],
            reason=str(obj.get("reason") or "")[:100],
            status=str(obj.get("status") or "needs_response")[:40],
            hold_id=hold.id,
            opened_at=now,
        )
    )
    return HOLD_OPENED


def on_dispute_closed(obj: Mapping, now: datetime) -> str:
    dispute = _dispute(obj.get("id"))
    if dispute is None:
        # Closed before we heard it open (events arrive in any order): try again later.
        raise EventNotReady(f"dispute {obj.get('id')!s:.255} closed before it was recorded")
    if dispute.closed_at is not None:
        return ALREADY_RECORDED
    dispute.status = str(obj.get("status") or "closed")[:40]
    dispute.closed_at = now
    hold = db.session.get(ContactHold, dispute.hold_id) if dispute.hold_id else None
    if hold is not None and hold.closed_at is None:
        close_hold(hold.borrower_id, hold.id, actor_id=None, now=now, ip_address=None)
    return HOLD_CLOSED
