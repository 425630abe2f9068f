"""Writing to and verifying the audit log."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update

from portal.audit.models import GENESIS_HASH, AuditChainHead, AuditEvent
from portal.extensions import db


@dataclass(frozen=True)
class EventContent:
    """What an audit event's hash covers: everything it says plus the previous hash."""

    sequence: int
    occurred_at: datetime
    actor_id: int | None
    action: str
    object_type: str | None
    object_id: str | None
    details: dict
    ip_address: str | None
    previous_hash: str

    @classmethod
    def of(cls, event: AuditEvent) -> EventContent:
        return cls(**{name: getattr(event, name) for name in cls.__dataclass_fields__})

    def hash(self) -> str:
        """SHA-256 over canonical JSON (sorted keys, microsecond UTC timestamp)."""
        fields = {name: getattr(self, name) for name in self.__dataclass_fields__}
        fields["occurred_at"] = self.occurred_at.isoformat(timespec="microseconds")
        canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


def record(
    action: str,
    *,
    now: datetime,
    actor_id: int | None = None,
    object_type: str | None = None,
    object_id: Any = None,
    details: dict | None = None,
    ip_address: str | None = None,
) -> AuditEvent:
    """Append an event to the chain in the caller's transaction (flushes, never commits).

    The head row is updated first so that its row lock (PostgreSQL) or the write lock
    (SQLite) is taken before the previous hash is read: concurrent appenders queue up
    instead of forking the chain.
    """
    db.session.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == 1)
        .values(sequence=AuditChainHead.sequence + 1)
    )
    head = db.session.execute(
        select(AuditChainHead)
        .where(AuditChainHead.id == 1)
        .execution_options(populate_existing=True)
    ).scalar_one()  # the first migration inserts the head row
    content = EventContent(
        sequence=head.sequence,
        occurred_at=now.astimezone(UTC),  # hashed as stored: UTC, whatever zone came in
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        details=_json_safe(details or {}),
        ip_address=ip_address,
        previous_hash=head.entry_hash,
    )
    event = AuditEvent(**content.__dict__, entry_hash=content.hash())
    head.entry_hash = event.entry_hash
    db.session.add(event)
    db.session.flush()
    return event


def _json_safe(details: dict) -> dict:
    # Round-trip through JSON so the hashed content is exactly what the database returns.
    return json.loads(json.dumps(details, default=str, ensure_ascii=False))


@dataclass(frozen=True)
class ChainVerification:
    events_checked: int
    broken_at_sequence: int | None = None
    reason: str | None = None

    @property
    def intact(self) -> bool:
        return self.broken_at_sequence is None

    def as_dict(self) -> dict:
        return {
            "intact": self.intact,
            "events_checked": self.events_checked,
            "broken_at_sequence": self.broken_at_sequence,
            "reason": self.reason,
        }


def verify_chain(
    *, batch_size: int = 5000, progress: Callable[[int], None] | None = None
) -> ChainVerification:
    """Walk the log in order and report the first event whose link or content is wrong.

    Detects edited events (hash mismatch), deleted events (a gap in sequence numbers or a
    previous hash that does not match) and a truncated tail (the head points past the end).
    """
    expected_previous = GENESIS_HASH
    expected_sequence = 1
    checked = 0
    for event in _events_in_order(batch_size):
        if event.sequence != expected_sequence:
            return ChainVerification(checked, expected_sequence, "missing event")
        if event.previous_hash != expected_previous:
            return ChainVerification(checked, event.sequence, "previous hash does not match")
        if EventContent.of(event).hash() != event.entry_hash:
            return ChainVerification(checked, event.sequence, "content does not match its hash")
        expected_previous = event.entry_hash
        expected_sequence += 1
        checked += 1
        if progress is not None:
            progress(1)
    head = db.session.get(AuditChainHead, 1)
    if head is not None and (head.sequence, head.entry_hash) != (checked, expected_previous):
        return ChainVerification(checked, checked + 1, "events missing after the last one")
    return ChainVerification(checked)


def _events_in_order(batch_size: int) -> Iterator[AuditEvent]:
    """Stream events by sequence with keyset pagination, so memory stays flat."""
    last_sequence = 0
    while True:
        batch = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.sequence > last_sequence)
            .order_by(AuditEvent.sequence)
            .limit(batch_size)
        ).all()
        if not batch:
            return
        yield from batch
        last_sequence = batch[-1].sequence
        for event in batch:  # keep memory flat without detaching the caller's objects
            db.session.expunge(event)


def count_events() -> int:
    return db.session.scalar(select(db.func.count()).select_from(AuditEvent)) or 0
