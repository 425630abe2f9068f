"""What an audit event's hash covers, and the key that signs it.

Keyed events (every event since migration 0006) carry HMAC-SHA256 with ``AUDIT_KEY`` over the
canonical JSON of their content and the previous event's hash: anyone may read the chain, only
holders of the key can extend or re-chain it. The key lives in the environment, never in the
database. Events from before the key carry plain SHA-256 over the same JSON.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from flask import current_app

from portal.audit.models import KEYED, UNKEYED, AuditEvent


def audit_key() -> bytes:
    """The application's ``AUDIT_KEY`` (validated at start-up, see portal.config)."""
    return current_app.config["AUDIT_KEY"].encode()


def unkeyed_events_allowed() -> int:
    """How many events, from the first, may predate the key (``AUDIT_UNKEYED_EVENTS``)."""
    return current_app.config["AUDIT_UNKEYED_EVENTS"]


@lru_cache(maxsize=4)
def _keyed(key: bytes) -> hmac.HMAC:
    # The key schedule once per key; each digest copies it (hmac.copy), which is cheaper.
    return hmac.new(key, digestmod=hashlib.sha256)


def sign(key: bytes, purpose: str, *values: object) -> str:
    """HMAC-SHA256 of ``purpose`` and ``values`` (e.g. a checkpoint's sequence and hash).

    The purpose prefix keeps these signatures apart from event hashes, whose canonical JSON
    always starts with ``{``."""
    mac = _keyed(key).copy()
    mac.update("|".join([purpose, *map(str, values)]).encode())
    return mac.hexdigest()


def signature_matches(key: bytes, mac: str | None, purpose: str, *values: object) -> bool:
    return mac is not None and hmac.compare_digest(mac, sign(key, purpose, *values))


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

    def canonical(self) -> bytes:
        """Canonical JSON (sorted keys, microsecond UTC timestamp), UTF-8."""
        fields = {name: getattr(self, name) for name in self.__dataclass_fields__}
        fields["occurred_at"] = self.occurred_at.isoformat(timespec="microseconds")
        text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return text.encode()

    def hash(self, algorithm: str = KEYED, key: bytes | None = None) -> str:
        """The entry hash: HMAC-SHA256 with ``key`` (default ``AUDIT_KEY``) for keyed events,
        SHA-256 for events from before the key. ValueError for any other algorithm."""
        if algorithm == KEYED:
            mac = _keyed(audit_key() if key is None else key).copy()
            mac.update(self.canonical())
            return mac.hexdigest()
        if algorithm == UNKEYED:
            return hashlib.sha256(self.canonical()).hexdigest()
        raise ValueError(f"unknown audit hash algorithm {algorithm!r}")
