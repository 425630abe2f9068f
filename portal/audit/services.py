"""Writing to the audit log; verifying it is in ``portal.audit.verification``.

``verify_chain`` (the whole log) and ``verify_incrementally`` (only what was appended since the
last verification) are re-exported here, where callers have always imported them from.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update

from portal.audit.chain import EventContent, audit_key
from portal.audit.models import KEYED, AuditChainHead, AuditEvent
from portal.audit.verification import (
    ChainVerification,
    count_events,
    verify_chain,
    verify_incrementally,
)
from portal.extensions import db

__all__ = [
    "ChainVerification",
    "EventContent",
    "count_events",
    "record",
    "verify_chain",
    "verify_incrementally",
]


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
    instead of forking the chain. The event's hash is keyed with ``AUDIT_KEY``.
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
    event = AuditEvent(
        **content.__dict__, entry_hash=content.hash(KEYED, audit_key()), algorithm=KEYED
    )
    head.entry_hash = event.entry_hash
    db.session.add(event)
    db.session.flush()
    return event


def _json_safe(details: dict) -> dict:
    # Round-trip through JSON so the hashed content is exactly what the database returns.
    return json.loads(json.dumps(details, default=str, ensure_ascii=False))
