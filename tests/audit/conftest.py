"""Audit test helpers: what someone with write access to the database, the source code and no
AUDIT_KEY can do; and a counter of the event hashes a piece of code computes (the cost of a
verification, not its time)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from portal.audit.chain import EventContent
from portal.audit.models import AuditEvent
from portal.audit.services import record
from portal.extensions import db
from tests.conftest import ON_POSTGRES

T0 = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)


def append(count: int, start: int = 0) -> None:
    """``count`` committed events, as the portal writes them."""
    for n in range(start, start + count):
        record(
            "loan.viewed",
            now=T0 + timedelta(seconds=n),
            object_type="loan",
            object_id=n,
            details={"note": f"第{n}次", "amount_minor": n * 100},
            ip_address="10.0.0.1",
        )
    db.session.commit()


def bypass_row_triggers() -> None:
    """Switch off the UPDATE/DELETE triggers (superuser on PostgreSQL; this transaction only)."""
    if ON_POSTGRES:
        db.session.execute(text("SET LOCAL session_replication_role = replica"))
    else:
        db.session.execute(text("DROP TRIGGER IF EXISTS audit_event_no_update"))
        db.session.execute(text("DROP TRIGGER IF EXISTS audit_event_no_delete"))


def canonical(event: AuditEvent, sequence: int, previous_hash: str) -> bytes:
    """The canonical JSON the portal hashes, rebuilt from the source code."""
    fields = {
        "sequence": sequence,
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "details": event.details,
        "ip_address": event.ip_address,
        "previous_hash": previous_hash,
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def delete_and_rehash(sequence: int, digest=sha256, *, downgrade: bool = False) -> None:
    """Delete event ``sequence``, renumber and re-hash every later event with ``digest``, and set
    the chain head to the new end: what an unkeyed chain cannot tell from the original."""
    bypass_row_triggers()
    db.session.execute(text("DELETE FROM audit_event WHERE sequence = :s"), {"s": sequence})
    rehash_from(sequence, digest, downgrade=downgrade, shift=1)


def rehash_from(sequence: int, digest=sha256, *, downgrade: bool = False, shift: int = 0) -> None:
    """Re-hash (and renumber down by ``shift``) every event from ``sequence`` on with
    ``digest`` and point the chain head at the new last one; commits. ``downgrade`` also marks
    the events as hashed before the key existed (plain SHA-256)."""
    bypass_row_triggers()
    previous = db.session.scalar(
        select(AuditEvent.entry_hash).where(AuditEvent.sequence == sequence - 1)
    ) or ("0" * 64)
    later = db.session.scalars(
        select(AuditEvent).where(AuditEvent.sequence >= sequence).order_by(AuditEvent.sequence)
    ).all()
    new_sequence = sequence - 1
    for event in later:
        new_sequence = event.sequence - shift
        entry_hash = digest(canonical(event, new_sequence, previous))
        db.session.execute(
            text(
                "UPDATE audit_event SET sequence = :s, previous_hash = :p, entry_hash = :h, "
                "algorithm = CASE WHEN :downgrade THEN 'sha256' ELSE algorithm END WHERE id = :id"
            ),
            {
                "s": new_sequence,
                "p": previous,
                "h": entry_hash,
                "id": event.id,
                "downgrade": downgrade,
            },
        )
        previous = entry_hash
    db.session.execute(
        text("UPDATE audit_chain_head SET sequence = :s, entry_hash = :h"),
        {"s": new_sequence, "h": previous},
    )
    db.session.commit()
    db.session.expire_all()


def cut_tail(keep: int) -> None:
    """Delete every event after ``keep`` and set the head back to event ``keep``; also remove
    the verified point, which would otherwise remember the longer chain."""
    bypass_row_triggers()
    db.session.execute(text("DELETE FROM audit_event WHERE sequence > :k"), {"k": keep})
    last = db.session.scalar(select(AuditEvent.entry_hash).where(AuditEvent.sequence == keep))
    db.session.execute(
        text("UPDATE audit_chain_head SET sequence = :s, entry_hash = :h"),
        {"s": keep, "h": last or "0" * 64},
    )
    db.session.execute(text("DELETE FROM audit_verified_point"))
    db.session.commit()
    db.session.expire_all()


class HashCounter:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        original = EventContent.hash

        def counting(content, *args, **kwargs):
            self.count += 1
            return original(content, *args, **kwargs)

        monkeypatch.setattr(EventContent, "hash", counting)

    def take(self) -> int:
        """The hashes computed since the last call."""
        count, self.count = self.count, 0
        return count
