"""Verifying the audit chain: the whole log, or only what was appended since the last check.

Both read the chain head first and check events 1..head (events appended meanwhile are left for
the next check), so a concurrent append is never mistaken for a gap. Every event after the first
``AUDIT_UNKEYED_EVENTS`` must carry an HMAC with ``AUDIT_KEY``, so a database writer without the
key can neither edit, delete nor re-chain events, nor downgrade them to plain SHA-256.

An intact verification remembers its last event in ``audit_verified_point``, signed with the key.
``verify_incrementally`` trusts a point so signed and hashes only the events after it, after
checking that the event it names still has the hash it had; a point the key did not sign (or
none) means starting from the first event. Truncating the log below the point is reported.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from portal.audit.chain import EventContent, audit_key, sign, signature_matches
from portal.audit.chain import unkeyed_events_allowed as _unkeyed_allowed
from portal.audit.models import (
    GENESIS_HASH,
    KEYED,
    UNKEYED,
    AuditChainHead,
    AuditEvent,
    AuditVerifiedPoint,
)
from portal.extensions import db

log = logging.getLogger(__name__)
POINT = "audit-verified-point"  # what the verified point's signature is for


@dataclass(frozen=True)
class ChainVerification:
    """``events_checked``: events 1..n are intact (hashed now, or up to ``trusted_through`` by
    an earlier verification whose signed point this one started from)."""

    events_checked: int
    broken_at_sequence: int | None = None
    reason: str | None = None
    events_hashed: int = 0  # the work this verification did
    trusted_through: int = 0
    last_hash: str = GENESIS_HASH  # the entry hash of event ``events_checked``
    keyed_from_sequence: int = 1  # every event from here on must carry the HMAC

    @property
    def intact(self) -> bool:
        return self.broken_at_sequence is None

    def as_dict(self) -> dict:
        return {
            "intact": self.intact,
            "events_checked": self.events_checked,
            "broken_at_sequence": self.broken_at_sequence,
            "reason": self.reason,
            "events_hashed": self.events_hashed,
            "trusted_through_sequence": self.trusted_through,
            "keyed_from_sequence": self.keyed_from_sequence,
        }


def verify_chain(
    *, batch_size: int = 5000, progress: Callable[[int], None] | None = None
) -> ChainVerification:
    """Walk the whole log in order and report the first event whose link or content is wrong.

    Detects edited events (hash mismatch), deleted events (a gap in sequence numbers or a
    previous hash that does not match), re-hashed events (no valid HMAC), a missing chain head,
    and a truncated tail (the head points past the end, or below the last verified point).
    Intact: remembers the head as the verified point (its own short transaction).
    """
    start = _start()
    if isinstance(start, ChainVerification):
        return start
    result = _walk(0, GENESIS_HASH, start.head, batch_size=batch_size, progress=progress)
    if result.intact:
        _remember(result)
    return result


def verify_incrementally(*, batch_size: int = 5000) -> ChainVerification:
    """Verify only the events appended since the last intact verification (the signed point),
    so the cost follows what is new, not the size of the log. Same result shape and reasons as
    ``verify_chain``, plus "event changed after it was verified". Remembers the new point."""
    start = _start()
    if isinstance(start, ChainVerification):
        return start
    head, point_sequence, point_hash = start.head, start.point_sequence, start.point_hash
    if point_sequence > 0:
        anchor = db.session.scalar(
            select(AuditEvent.entry_hash).where(AuditEvent.sequence == point_sequence)
        )
        if anchor != point_hash:
            return ChainVerification(
                point_sequence - 1, point_sequence, "event changed after it was verified"
            )
    result = _walk(point_sequence, point_hash, head, batch_size=batch_size, progress=None)
    if result.intact and result.events_checked > point_sequence:
        _remember(result)
    return result


def _walk(
    start: int,
    start_hash: str,
    head: AuditChainHead,
    *,
    batch_size: int,
    progress: Callable[[int], None] | None,
) -> ChainVerification:
    """Check events ``start``+1 .. head, given that event ``start`` hashes to ``start_hash``."""
    key, unkeyed_allowed = audit_key(), _unkeyed_allowed()
    expected_previous, expected_sequence, hashed = start_hash, start + 1, 0

    def outcome(broken_at: int | None = None, reason: str | None = None) -> ChainVerification:
        through = expected_sequence - 1
        return ChainVerification(
            through, broken_at, reason, hashed, start, expected_previous, unkeyed_allowed + 1
        )

    for event in _events_in_order(batch_size, after=start, through=head.sequence):
        if event.sequence != expected_sequence:
            return outcome(expected_sequence, "missing event")
        if event.previous_hash != expected_previous:
            return outcome(event.sequence, "previous hash does not match")
        allowed = (KEYED,) if event.sequence > unkeyed_allowed else (KEYED, UNKEYED)
        if event.algorithm not in allowed:
            return outcome(event.sequence, "event not signed with the audit key")
        hashed += 1
        if EventContent.of(event).hash(event.algorithm, key) != event.entry_hash:
            return outcome(event.sequence, "content does not match its hash")
        expected_previous = event.entry_hash
        expected_sequence += 1
        if progress is not None:
            progress(1)
    if expected_sequence - 1 != head.sequence:
        return outcome(expected_sequence, "events missing after the last one")
    if expected_previous != head.entry_hash:
        return outcome(head.sequence, "the chain head does not match the last event")
    return outcome()


@dataclass(frozen=True)
class _Start:
    head: AuditChainHead
    point_sequence: int
    point_hash: str


def _start() -> _Start | ChainVerification:
    """The head and the trusted point; or the verdict if they already show a broken chain."""
    head = _head()
    if head is None:
        return ChainVerification(0, 1, "the chain head is missing")
    point_sequence, point_hash = _trusted_point()
    if point_sequence > head.sequence:
        return ChainVerification(
            head.sequence,
            head.sequence + 1,
            f"the chain ends at event {head.sequence}, but was verified up to {point_sequence}",
        )
    return _Start(head, point_sequence, point_hash)


def _head() -> AuditChainHead | None:
    return db.session.execute(
        select(AuditChainHead)
        .where(AuditChainHead.id == 1)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def _trusted_point() -> tuple[int, str]:
    """The verified point if ``AUDIT_KEY`` signed it; else the genesis (start over)."""
    point = db.session.execute(
        select(AuditVerifiedPoint)
        .where(AuditVerifiedPoint.id == 1)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if point is not None and signature_matches(
        audit_key(), point.mac, POINT, point.sequence, point.entry_hash
    ):
        return point.sequence, point.entry_hash
    return 0, GENESIS_HASH


def _remember(result: ChainVerification) -> None:
    """Store the verified point in its own transaction, so that read-only pages (which never
    commit) move it too. Best effort: if it cannot be stored now, the next check does it."""
    if _session_holds_sqlite_write_lock():
        return  # a second connection would wait for our own caller's lock
    values = {
        "sequence": result.events_checked,
        "entry_hash": result.last_hash,
        "mac": sign(audit_key(), POINT, result.events_checked, result.last_hash),
    }
    try:
        with db.engine.begin() as connection:
            point = update(AuditVerifiedPoint).where(AuditVerifiedPoint.id == 1)
            if connection.execute(point.values(**values)).rowcount == 0:
                connection.execute(insert(AuditVerifiedPoint).values(id=1, **values))
    except (IntegrityError, OperationalError) as error:  # a concurrent check stored one
        log.info("audit verified point not stored: %s", error)


def _session_holds_sqlite_write_lock() -> bool:
    if db.engine.dialect.name != "sqlite":
        return False
    dbapi_connection = db.session.connection().connection.dbapi_connection
    return bool(getattr(dbapi_connection, "in_transaction", False))


def _events_in_order(batch_size: int, *, after: int, through: int) -> Iterator[AuditEvent]:
    """Stream events by sequence with keyset pagination, so memory stays flat."""
    last_sequence = after
    while True:
        batch = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.sequence > last_sequence, AuditEvent.sequence <= through)
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
