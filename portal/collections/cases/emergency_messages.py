"""Asking one of the borrower's emergency contacts to pass on a message, from a case.

The text goes through the outbox with ``emergency_contact_id``, so the contact-rules guard
decides as for any message: the CN rulebook allows it only while the borrower is unreachable,
US_REG_F never, and a contact who texted STOP is never texted again. Flushes; the route commits.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from portal.audit.services import record as audit
from portal.auth.models import Channel, User
from portal.collections.cases.access import borrower_timezone, lock_open_case
from portal.collections.cases.actions import MessageResult
from portal.extensions import db
from portal.messaging.emergency_contacts.services import active_contact
from portal.messaging.models import ContactDecisionRecord, Message, MessageStatus
from portal.messaging.outbox import enqueue
from portal.timeutil import local_today

PURPOSE = "third_party_locate"


def message_emergency_contact(
    case_id: int,
    *,
    viewer: User,
    emergency_contact_id: int,
    now: datetime,
    ip_address: str | None = None,
) -> MessageResult:
    """Text one of the case's borrower's emergency contacts (SMS, the only channel for them).

    The result says queued, deferred or blocked with the guard's rule. A text to the same
    contact that was not blocked earlier on the borrower's local day is returned instead
    (``repeated``): the guard's daily caps count texts to the borrower only. The case's last
    contact is not moved, since the borrower was not reached. Audits
    ``case.emergency_contact_messaged``. Raises EmergencyContactNotFound (404) for a contact
    that is not this borrower's, TemplateMissing, and the access errors.
    """
    case = lock_open_case(case_id, viewer)
    contact = active_contact(case.borrower_id, emergency_contact_id)
    start, end = _local_day(borrower_timezone(case), now)
    earlier = db.session.scalar(
        select(Message)
        .where(
            Message.emergency_contact_id == contact.id,
            Message.purpose == PURPOSE,
            Message.status != MessageStatus.BLOCKED,
            Message.created_at >= start,
            Message.created_at < end,
        )
        .order_by(Message.id)
        .limit(1)
    )
    message = earlier or enqueue(
        borrower_id=case.borrower_id,
        purpose_code=PURPOSE,
        channel=Channel.SMS,
        variables={"contact_name": contact.name},
        now=now,
        loan_id=case.loan_id,
        actor_id=viewer.id,
        emergency_contact_id=contact.id,
    )
    rule = db.session.scalar(
        select(ContactDecisionRecord.rule)
        .where(ContactDecisionRecord.message_id == message.id)
        .order_by(ContactDecisionRecord.id.desc())
        .limit(1)
    )
    audit(
        "case.emergency_contact_messaged",
        now=now,
        actor_id=viewer.id,
        object_type="collection_case",
        object_id=case.id,
        details={
            "emergency_contact_id": contact.id,
            "message_id": message.id,
            "result": "repeated" if earlier else message.status.value,
            "rule": rule,
            "not_before": message.not_before.isoformat(),
        },
        ip_address=ip_address,
    )
    return MessageResult(message, earlier is not None, rule)


def _local_day(timezone: str, now: datetime) -> tuple[datetime, datetime]:
    """The borrower's current calendar day as a UTC interval [start, end)."""
    zone = ZoneInfo(timezone)
    today = local_today(timezone, now)
    start = datetime.combine(today, time(0), tzinfo=zone)
    end = datetime.combine(today + timedelta(days=1), time(0), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)
