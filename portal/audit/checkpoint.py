"""Signed checkpoints of the audit chain's head, kept outside the database.

A database writer without ``AUDIT_KEY`` cannot forge events, but can still cut the log's tail
(delete the newest events and set the head back) or empty it: what is left verifies. A
checkpoint written to a file or a log elsewhere (``flask audit checkpoint``) records the head
(sequence, hash, time), signed with the key; ``check_checkpoint`` then finds a chain that ends
before it or differs at its sequence.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select

from portal.audit.chain import audit_key, sign, signature_matches
from portal.audit.models import AuditChainHead, AuditEvent
from portal.audit.verification import ChainVerification
from portal.extensions import db

PURPOSE = "audit-checkpoint"


class CheckpointInvalid(ValueError):
    """The checkpoint is not readable, or not signed with this ``AUDIT_KEY``."""


@dataclass(frozen=True)
class Checkpoint:
    sequence: int
    entry_hash: str
    created_at: str  # ISO 8601, UTC
    mac: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def make_checkpoint(verification: ChainVerification, *, now: datetime) -> Checkpoint:
    """Sign the head of an intact ``verification``. ValueError if it is broken."""
    if not verification.intact:
        raise ValueError("a broken chain has no head to vouch for")
    sequence, entry_hash = verification.events_checked, verification.last_hash
    created_at = now.isoformat(timespec="seconds")
    mac = sign(audit_key(), PURPOSE, sequence, entry_hash, created_at)
    return Checkpoint(sequence, entry_hash, created_at, mac)


def read_checkpoint(text: str) -> Checkpoint:
    """Parse and authenticate a checkpoint. Raises CheckpointInvalid."""
    try:
        fields = json.loads(text)
        checkpoint = Checkpoint(
            sequence=int(fields["sequence"]),
            entry_hash=str(fields["entry_hash"]),
            created_at=str(fields["created_at"]),
            mac=str(fields["mac"]),
        )
    except (ValueError, TypeError, KeyError) as error:
        raise CheckpointInvalid(f"not a checkpoint: {error}") from error
    if not signature_matches(
        audit_key(),
        checkpoint.mac,
        PURPOSE,
        checkpoint.sequence,
        checkpoint.entry_hash,
        checkpoint.created_at,
    ):
        raise CheckpointInvalid("the checkpoint is not signed with this AUDIT_KEY")
    return checkpoint


def check_checkpoint(checkpoint: Checkpoint) -> tuple[int, str] | None:
    """Where and why the chain in the database contradicts ``checkpoint``; None if it agrees
    (the chain still reaches the checkpoint's event, with the same hash)."""
    head = db.session.get(AuditChainHead, 1, populate_existing=True)
    if head is None:
        return 1, "the chain head is missing"
    if head.sequence < checkpoint.sequence:
        return head.sequence + 1, (
            f"the chain ends at event {head.sequence}, before the checkpoint's "
            f"{checkpoint.sequence}: events were removed"
        )
    stored = db.session.scalar(
        select(AuditEvent.entry_hash).where(AuditEvent.sequence == checkpoint.sequence)
    )
    if stored is None:
        return checkpoint.sequence, "the checkpoint's event is missing"
    if stored != checkpoint.entry_hash:
        return checkpoint.sequence, "the chain was rewritten since the checkpoint"
    return None
