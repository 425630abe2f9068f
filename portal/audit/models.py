"""The append-only, hash-chained audit log.

Each event's ``entry_hash`` is SHA-256 over its canonical content and the previous event's
hash, so changing or deleting any event breaks every link after it. ``AuditChainHead`` is a
single row holding the last sequence number and hash: appenders lock it, which orders them.
Database triggers (see the first migration) refuse UPDATE and DELETE on ``audit_event``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.dbtypes import UTCDateTime
from portal.extensions import Model

GENESIS_HASH = "0" * 64


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


class AuditChainHead(Model):
    __tablename__ = "audit_chain_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger, default=0)
    entry_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)
