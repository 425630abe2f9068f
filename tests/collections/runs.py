"""Test helpers: cases count days past due to the latest run, so tests that build cases by hand
record the run they stand for; and the messages that make a case contacted (or not)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import select

from portal.auth.models import Channel
from portal.collections.models import CollectionRun
from portal.extensions import db
from portal.messaging.models import CallOutcome, ContactKind, Message, MessageStatus


def record_run(as_of: date) -> None:
    """A finished collections run for ``as_of`` (once; flushes)."""
    if db.session.scalar(select(CollectionRun.id).where(CollectionRun.as_of == as_of)):
        return
    db.session.add(
        CollectionRun(
            as_of=as_of,
            status="finished",
            strategy_version=0,
            started_at=datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC),
            report={},
        )
    )
    db.session.flush()


def record_contact(
    borrower_id: int,
    at: datetime,
    *,
    channel: Channel = Channel.PORTAL,
    status: MessageStatus = MessageStatus.SENT,
    call_outcome: CallOutcome | None = None,
) -> Message:
    """A message to the borrower as the outbox or a logged call leaves it (flushes); by default
    a portal notice made visible at ``at``, which counts as a contact."""
    message = Message(
        idempotency_key=uuid.uuid4().hex,
        borrower_id=borrower_id,
        purpose="overdue_stage_1" if channel is not Channel.PHONE else "collection_call",
        kind=ContactKind.COLLECTION,
        channel=channel,
        locale="en",
        status=status,
        not_before=at,
        sent_at=at if status in (MessageStatus.SENT, MessageStatus.DELIVERED) else None,
        call_outcome=call_outcome,
        created_at=at,
    )
    db.session.add(message)
    db.session.flush()
    return message
