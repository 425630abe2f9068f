"""Workers: claim due messages, ask the guard again, deliver, record the outcome.

Delivery is at-least-once with the smallest possible window for a repeat: a batch is claimed
(``sending``) and committed first, the guard's decisions on the whole claim are committed next,
then each message is committed as sent right after its channel accepted it. A worker that dies
leaves its claimed rows in ``sending``; the sweeper puts them back in the queue after
MESSAGE_STUCK_MINUTES. On PostgreSQL the claim uses ``FOR UPDATE SKIP LOCKED``, so concurrent
workers take different rows; on SQLite the claim is one UPDATE, which SQLite's single writer
makes atomic.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from portal.auth.models import Channel
from portal.extensions import db
from portal.messaging.channels import (
    DISPATCHED_CHANNELS,
    ChannelAdapter,
    DeliveryError,
    build_adapters,
)
from portal.messaging.facts import load_borrower_contexts
from portal.messaging.guard import Outcome
from portal.messaging.models import ContactDecisionRecord, Message, MessageStatus
from portal.messaging.outbox import apply_decision, decision_values, guard_decision
from portal.messaging.stale import cancel, stale_reasons
from portal.sqlutil import rows_affected

log = logging.getLogger(__name__)
RETRY_BASE = timedelta(minutes=1)
# Phone calls are placed by people and logged, never dispatched.


@dataclass
class DispatchReport:
    claimed: int = 0
    sent: int = 0
    deferred: int = 0
    blocked: int = 0
    failed: int = 0
    dead: int = 0
    cancelled: int = 0  # no longer true when claimed (portal/messaging/stale.py)
    batches: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)

    def add(self, other: DispatchReport) -> None:
        for name in (
            "claimed",
            "sent",
            "deferred",
            "blocked",
            "failed",
            "dead",
            "cancelled",
            "batches",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for channel, count in other.by_channel.items():
            self.by_channel[channel] = self.by_channel.get(channel, 0) + count


# The hot path, once per message sent: a prepared Core UPDATE by key, not an ORM flush (about
# a third of the cost; see bench/messaging_dispatch.py).
MARK_SENT = (
    update(Message)
    .where(Message.id == bindparam("message_id"))
    .values(
        status=MessageStatus.SENT,
        sent_at=bindparam("sent_at"),
        provider_reference=bindparam("reference"),
        last_error=None,
        claim_token=None,
    )
)


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


def _decide_claim(
    messages: list[Message], borrowers: dict, now: datetime, report: DispatchReport
) -> list[Message]:
    """Ask the guard about every claimed message; return those it lets go now. Commits.

    All decisions are recorded in one INSERT and committed before anything is sent, so every
    message that leaves has its decision on record even if the worker dies mid-claim. Held-back
    messages go back to the queue (deferred) or are blocked. A message cleared to go counts
    against the borrower's caps at once, so two messages of one claim cannot both take the last
    slot; if its delivery then fails, the claim only errs on the side of fewer contacts.
    A message that stopped being true (the loan was paid since it was queued) is cancelled
    before the guard is asked: it was never going to be a contact.
    """
    decisions, cleared = [], []
    timezones = {borrower_id: context.timezone for borrower_id, context in borrowers.items()}
    stale = stale_reasons(messages, now=now, timezones=timezones)
    for message in messages:
        if message.id in stale:
            cancel(message, stale[message.id])
            message.attempts -= 1  # nothing was tried
            report.cancelled += 1
            continue
        borrower = borrowers[message.borrower_id]
        decision = guard_decision(message, borrower, now)
        decisions.append(decision_values(message, decision, borrower, now, None))
        if decision.outcome is Outcome.SEND:
            borrower.record_contact(message.channel, now)
            cleared.append(message)
            continue
        apply_decision(message, decision)
        message.claim_token = None
        message.attempts -= 1  # the guard held it back; no delivery was tried
        if decision.outcome is Outcome.BLOCK:
            report.blocked += 1
        else:
            report.deferred += 1
    if decisions:
        db.session.execute(insert(ContactDecisionRecord), decisions)
    db.session.commit()
    return cleared


def deliver_claimed(
    token: str, clock: Callable[[], datetime], adapters: dict[Channel, ChannelAdapter]
) -> DispatchReport:
    """Deliver the messages of one claim, committing each one as soon as its fate is known."""
    report = DispatchReport(batches=1)
    messages = list(
        db.session.scalars(
            select(Message).where(Message.claim_token == token).order_by(Message.id)
        ).all()
    )
    report.claimed = len(messages)
    if not messages:
        return report
    now = clock()
    borrowers = load_borrower_contexts({m.borrower_id for m in messages}, now)
    # Each message commits on its own; reloading the whole claim after every commit would make
    # a batch quadratic. The claimed rows are this worker's alone until it finishes.
    session = db.session()  # the scoped session's current Session
    expire_on_commit = session.expire_on_commit
    session.expire_on_commit = False
    max_attempts = current_app.config["MESSAGE_MAX_ATTEMPTS"]
    opened: set[Channel] = set()
    # Sent messages are marked on a connection held for the whole claim, in autocommit mode:
    # one UPDATE by key is its own transaction, one round trip. Through the session each mark
    # would also cost a BEGIN, a COMMIT, and a pool checkout with its ping.
    marker = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        for message in _decide_claim(messages, borrowers, now, report):
            borrower = borrowers[message.borrower_id]
            adapter = adapters[message.channel]
            if message.channel not in opened:
                adapter.open()
                opened.add(message.channel)
            try:
                reference = adapter.send(message, borrower)
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
                message.claim_token = None
                message.last_error = error.reason
                if error.permanent or message.attempts >= max_attempts:
                    message.status = MessageStatus.DEAD
                    report.dead += 1
                else:
                    message.status = MessageStatus.FAILED
                    message.not_before = clock() + retry_delay(message.attempts)
                    report.failed += 1
                db.session.commit()
                continue
            sent = {"message_id": message.id, "sent_at": clock(), "reference": reference}
            # Right after the channel accepted it (the repeat window). A channel that wrote
            # through the session (the SMS log, an in-portal notice) commits with the mark.
            if session.in_transaction():
                db.session.connection().execute(MARK_SENT, sent)
                db.session.commit()
            else:
                marker.execute(MARK_SENT, sent)  # committed by itself (autocommit)
            report.sent += 1
            report.by_channel[message.channel.value] = (
                report.by_channel.get(message.channel.value, 0) + 1
            )
        db.session.commit()
    finally:
        marker.close()
        session.expire_on_commit = expire_on_commit
        session.expire_all()  # the sent rows were updated around the ORM: reload on next use
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
