"""Workers: claim due messages, ask the guard again, deliver, record the outcome.

Delivery is at-least-once with the smallest possible window for a repeat: a batch is claimed
(``sending``) and committed first, then each message is committed as sent right after its channel
accepted it. A worker that dies leaves its claimed rows in ``sending``; the sweeper puts them back
in the queue after MESSAGE_STUCK_MINUTES. On PostgreSQL the claim uses ``FOR UPDATE SKIP
LOCKED``, so concurrent workers take different rows; on SQLite the claim is one UPDATE, which
SQLite's single writer makes atomic.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from portal.auth.models import Channel
from portal.extensions import db
from portal.messaging.channels import ChannelAdapter, DeliveryError, build_adapters
from portal.messaging.facts import load_borrower_contexts
from portal.messaging.guard import Outcome, decide
from portal.messaging.models import Message, MessageStatus
from portal.messaging.outbox import apply_decision, record_decision
from portal.sqlutil import rows_affected

log = logging.getLogger(__name__)
RETRY_BASE = timedelta(minutes=1)
# Phone calls are placed by people and logged, never dispatched.
DISPATCHED_CHANNELS = {Channel.PORTAL, Channel.EMAIL, Channel.SMS}


@dataclass
class DispatchReport:
    claimed: int = 0
    sent: int = 0
    deferred: int = 0
    blocked: int = 0
    failed: int = 0
    dead: int = 0
    batches: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)

    def add(self, other: DispatchReport) -> None:
        for name in ("claimed", "sent", "deferred", "blocked", "failed", "dead", "batches"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for channel, count in other.by_channel.items():
            self.by_channel[channel] = self.by_channel.get(channel, 0) + count


def retry_delay(attempts: int) -> timedelta:
    """1, 5, 25, 125 minutes...: exponential backoff, capped at six hours."""
    return min(RETRY_BASE * 5 ** max(attempts - 1, 0), timedelta(hours=6))


def claim_batch(now: datetime, limit: int, channels: set[Channel] | None = None) -> str:
    """Mark up to ``limit`` due messages ``sending`` for this worker; commit; return the claim."""
    token = uuid.uuid4().hex
    due = (
        select(Message.id)
        .where(
            Message.status.in_((MessageStatus.QUEUED, MessageStatus.FAILED)),
            Message.not_before <= now,
            Message.channel.in_(channels or DISPATCHED_CHANNELS),
        )
        .order_by(Message.not_before, Message.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    db.session.execute(
        update(Message)
        .where(
            Message.id.in_(due.scalar_subquery()),
            Message.status.in_((MessageStatus.QUEUED, MessageStatus.FAILED)),
        )
        .values(
            status=MessageStatus.SENDING,
            claim_token=token,
            claimed_at=now,
            attempts=Message.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return token


def deliver_claimed(
    token: str, clock: Callable[[], datetime], adapters: dict[Channel, ChannelAdapter]
) -> DispatchReport:
    """Deliver the messages of one claim, committing each one as soon as its fate is known."""
    report = DispatchReport(batches=1)
    messages = db.session.scalars(
        select(Message).where(Message.claim_token == token).order_by(Message.id)
    ).all()
    report.claimed = len(messages)
    if not messages:
        return report
    borrowers = load_borrower_contexts({m.borrower_id for m in messages}, clock())
    # Each message commits on its own; reloading the whole claim after every commit would make
    # a batch quadratic. The claimed rows are this worker's alone until it finishes.
    session = db.session()  # the scoped session's current Session
    expire_on_commit = session.expire_on_commit
    session.expire_on_commit = False
    max_attempts = current_app.config["MESSAGE_MAX_ATTEMPTS"]
    opened: set[Channel] = set()
    try:
        for message in messages:
            now = clock()
            borrower = borrowers[message.borrower_id]
            decision = decide(
                kind=message.kind,
                channel=message.channel,
                now=now,
                facts=borrower.facts(
                    message.channel, now, emergency_contact_id=message.emergency_contact_id
                ),
                rules=borrower.rulebook,
            )
            record_decision(message, decision, borrower, now, None)
            message.claim_token = None
            if decision.outcome is not Outcome.SEND:
                apply_decision(message, decision)
                message.attempts -= 1  # the guard held it back; no delivery was tried
                if decision.outcome is Outcome.BLOCK:
                    report.blocked += 1
                else:
                    report.deferred += 1
                continue
            adapter = adapters[message.channel]
            if message.channel not in opened:
                adapter.open()
                opened.add(message.channel)
            try:
                message.provider_reference = adapter.send(message, borrower)
            except Exception as raised:  # any failure is this message's, never the batch's
                error = (
                    raised
                    if isinstance(raised, DeliveryError)
                    else DeliveryError(f"{type(raised).__name__}: {raised}")
                )
                if not isinstance(raised, DeliveryError):
                    log.exception("channel %s failed on message %s", message.channel, message.id)
                if isinstance(raised, SQLAlchemyError):
                    db.session.rollback()  # the adapter's own writes are undone; the claim stays
                message.last_error = error.reason
                if error.permanent or message.attempts >= max_attempts:
                    message.status = MessageStatus.DEAD
                    report.dead += 1
                else:
                    message.status = MessageStatus.FAILED
                    message.not_before = now + retry_delay(message.attempts)
                    report.failed += 1
                db.session.commit()
                continue
            message.status = MessageStatus.SENT
            message.sent_at = now
            message.last_error = None
            borrower.record_contact(message.channel, now)
            db.session.commit()  # right after the channel accepted it: the repeat window
            report.sent += 1
            report.by_channel[message.channel.value] = (
                report.by_channel.get(message.channel.value, 0) + 1
            )
        db.session.commit()
    finally:
        session.expire_on_commit = expire_on_commit
        for channel in opened:
            adapters[channel].close()
    return report


def dispatch_due(
    clock: Callable[[], datetime],
    *,
    batch_size: int = 200,
    max_batches: int | None = None,
    channels: set[Channel] | None = None,
    adapters: dict[Channel, ChannelAdapter] | None = None,
) -> DispatchReport:
    """Deliver everything due now on ``channels`` (default: all), batch after batch, until
    nothing is due or ``max_batches`` ran. Commits per claim and per message."""
    if adapters is None:
        adapters = build_adapters(current_app._get_current_object())  # type: ignore[attr-defined]
    total = DispatchReport()
    while max_batches is None or total.batches < max_batches:
        token = claim_batch(clock(), batch_size, channels)
        report = deliver_claimed(token, clock, adapters)
        if report.claimed == 0:
            break
        total.add(report)
    return total


def sweep_stuck(now: datetime, older_than: timedelta | None = None) -> int:
    """Put messages whose worker died back in the queue; returns how many. Commits."""
    if older_than is None:
        older_than = timedelta(minutes=current_app.config["MESSAGE_STUCK_MINUTES"])
    result = db.session.execute(
        update(Message)
        .where(Message.status == MessageStatus.SENDING, Message.claimed_at < now - older_than)
        .values(status=MessageStatus.QUEUED, claim_token=None, not_before=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return rows_affected(result)
