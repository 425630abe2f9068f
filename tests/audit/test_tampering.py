"""Attacks by a database writer without AUDIT_KEY, each detected or refused."""

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from portal.audit.models import AuditEvent
from portal.audit.services import verify_chain
from portal.extensions import db
from tests.audit.conftest import (
    append,
    canonical,
    delete_and_rehash,
    rehash_from,
    sha256,
)
from tests.conftest import ON_POSTGRES


def test_events_are_signed_with_the_audit_key(app_ctx):
    """New events carry an HMAC, not a hash anyone could recompute."""
    append(2)
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.sequence)).all()
    assert {e.algorithm for e in events} == {"hmac-sha256"}
    second = events[1]
    assert second.entry_hash != sha256(canonical(second, 2, second.previous_hash))
    app_ctx.config["AUDIT_KEY"] = "another-key-of-at-least-32-bytes-long!!"
    result = verify_chain()
    assert (result.broken_at_sequence, result.reason) == (1, "content does not match its hash")


def test_deleting_an_event_and_rehashing_the_rest_is_detected(app_ctx):
    """Delete event 3 and re-chain 4..6 without the key: verify no longer says intact."""
    append(6)
    delete_and_rehash(3, sha256)
    result = verify_chain()
    assert not result.intact
    assert (result.broken_at_sequence, result.reason) == (3, "content does not match its hash")


def test_downgrading_the_chain_to_unkeyed_hashes_is_detected(app_ctx):
    """Marking the re-hashed events as pre-key SHA-256 does not help: none are allowed."""
    append(4)
    delete_and_rehash(1, sha256, downgrade=True)
    result = verify_chain()
    assert (result.broken_at_sequence, result.reason) == (1, "event not signed with the audit key")


def test_deleting_the_chain_head_is_detected(app_ctx):
    """Without the head row the truncation check cannot run: that itself is a broken chain."""
    append(3)
    db.session.execute(text("DELETE FROM audit_chain_head"))
    db.session.commit()
    result = verify_chain()
    assert (result.intact, result.reason) == (False, "the chain head is missing")


def test_a_head_that_does_not_match_the_last_event_is_detected(app_ctx):
    """The head names a hash the last event does not have."""
    append(3)
    db.session.execute(text("UPDATE audit_chain_head SET entry_hash = :h"), {"h": "e" * 64})
    db.session.commit()
    result = verify_chain()
    assert (result.broken_at_sequence, result.reason) == (
        3,
        "the chain head does not match the last event",
    )


def test_unkeyed_events_from_before_the_key_are_accepted_up_to_the_configured_number(app_ctx):
    """Events hashed before migration 0006 verify as SHA-256, but only AUDIT_UNKEYED_EVENTS."""
    append(2)
    rehash_from(1, sha256, downgrade=True)  # as stored before the key
    append(2, start=2)  # keyed, chained onto the unkeyed events
    app_ctx.config["AUDIT_UNKEYED_EVENTS"] = 2
    result = verify_chain()
    assert (result.intact, result.events_checked, result.keyed_from_sequence) == (True, 4, 3)
    app_ctx.config["AUDIT_UNKEYED_EVENTS"] = 1
    result = verify_chain()
    assert (result.broken_at_sequence, result.reason) == (2, "event not signed with the audit key")


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="TRUNCATE triggers are PostgreSQL's")
@pytest.mark.parametrize("statement", ["TRUNCATE audit_event", "TRUNCATE user_account CASCADE"])
def test_postgres_refuses_truncate(app_ctx, statement):
    """TRUNCATE skips row triggers; a statement-level trigger refuses it, cascades included."""
    append(2)
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text(statement))
    db.session.rollback()
    assert db.session.scalar(select(db.func.count()).select_from(AuditEvent)) == 2


REPLACE = (
    "INSERT OR REPLACE INTO audit_event (id, sequence, occurred_at, action, details, "
    "previous_hash, entry_hash) VALUES (:id, :sequence, '2026-11-28 06:00:00', 'forged', '{}', "
    ":previous, :entry_hash)"
)


@pytest.mark.skipif(ON_POSTGRES, reason="INSERT OR REPLACE is SQLite's")
@pytest.mark.parametrize("conflict", ["id", "sequence", "entry_hash"])
def test_sqlite_refuses_insert_or_replace(app_ctx, conflict):
    """REPLACE deletes the row it conflicts with (by id, sequence or hash) without firing the
    DELETE trigger; a BEFORE INSERT trigger refuses it instead."""
    append(3)
    second = db.session.scalar(select(AuditEvent).where(AuditEvent.sequence == 2))
    values = {"id": 100, "sequence": 100, "previous": second.previous_hash, "entry_hash": "f" * 64}
    if conflict == "entry_hash":
        values["entry_hash"] = second.entry_hash
    else:
        values[conflict] = getattr(second, conflict)
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text(REPLACE), values)
    db.session.rollback()
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.sequence == 2)) == (
        "loan.viewed"
    )
    assert verify_chain().intact
