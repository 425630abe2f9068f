"""The append-only, hash-chained audit log.

Each event's ``entry_hash`` is HMAC-SHA256, keyed with ``AUDIT_KEY``, over its canonical content
and the previous event's hash, so changing or deleting any event breaks every link after it, and
nobody without the key can re-hash the rest. Events written before the key existed carry
``algorithm = "sha256"`` (unkeyed); ``AUDIT_UNKEYED_EVENTS`` (set outside the database) says how
many there may be. ``AuditChainHead`` is a
single row holding the last sequence number and hash: appenders lock it, which orders them.
Database triggers refuse UPDATE, DELETE, TRUNCATE (PostgreSQL) and REPLACE (SQLite) on
``audit_event`` (migrations 0001 and 0006). ``AuditVerifiedPoint`` remembers, signed with the key,
the last event a verification found intact, so the next one only walks the events after it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.dbtypes import UTCDateTime
from portal.extensions import Model

GENESIS_HASH = "0" * 64
KEYED = "hmac-sha256"
UNKEYED = "sha256"  # events from before migration 0006, which could not re-key them


class AuditEvent(Model):
    __tablename__ = "audit_event"
    __table_args__ = (CheckConstraint("sequence >= 1", name="sequence_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger, unique=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Nullable: failed logins and system jobs have no acting user.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str | None] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    ip_address: Mapped[str | None] = mapped_column(String(45))
    previous_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)
    algorithm: Mapped[str] = mapped_column(String(16), default=KEYED, server_default=UNKEYED)


class AuditChainHead(Model):
    __tablename__ = "audit_chain_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger, default=0)
    entry_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)


class AuditVerifiedPoint(Model):
    """The last event a verification found intact (one row). ``mac`` signs the row with
    ``AUDIT_KEY``: a point the key did not sign is ignored and the next check starts over."""

    __tablename__ = "audit_verified_point"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger, default=0)
    entry_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)
    mac: Mapped[str | None] = mapped_column(String(64))
