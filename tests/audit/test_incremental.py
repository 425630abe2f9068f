"""verify_incrementally: only events appended since the last intact verification are hashed,
from a point signed with AUDIT_KEY; tampering with that point or under it is still found."""

import pytest
from sqlalchemy import text

from portal.audit.models import AuditVerifiedPoint
from portal.audit.services import verify_chain, verify_incrementally
from portal.extensions import db
from tests.audit.conftest import HashCounter, append, bypass_row_triggers, cut_tail


@pytest.fixture
def hashes(monkeypatch):
    return HashCounter(monkeypatch)


def test_only_new_events_are_hashed(app_ctx, hashes):
    """After a check of 60 events, 3 more cost 3 hashes; nothing new costs none."""
    append(60)
    hashes.take()  # the appends' own hashes
    first = verify_incrementally()
    assert (first.intact, first.events_checked, hashes.take()) == (True, 60, 60)
    append(3, start=60)
    hashes.take()  # the appends' own hashes
    second = verify_incrementally()
    assert (second.intact, second.events_checked, second.events_hashed) == (True, 63, 3)
    assert hashes.take() == 3
    assert verify_incrementally().events_hashed == 0
    assert hashes.take() == 0


def test_a_full_verification_moves_the_point_too(app_ctx, hashes):
    """`audit verify` (the full walk) leaves a point the next incremental check starts from."""
    append(10)
    assert verify_chain().events_hashed == 10
    assert verify_incrementally().trusted_through == 10


def test_a_point_not_signed_with_the_key_is_ignored(app_ctx, hashes):
    """A point moved forward by a database writer has no valid signature: start from event 1,
    and the event edited under it is found."""
    append(8)
    verify_incrementally()
    bypass_row_triggers()
    db.session.execute(text("UPDATE audit_event SET action = 'forged' WHERE sequence = 2"))
    db.session.execute(
        text("UPDATE audit_verified_point SET sequence = 7, mac = :m"), {"m": "0" * 64}
    )
    db.session.commit()
    hashes.take()
    result = verify_incrementally()
    assert (result.broken_at_sequence, result.reason) == (2, "content does not match its hash")
    assert result.trusted_through == 0


def test_the_verified_event_changed_is_found(app_ctx):
    """The event the point names no longer has the hash it had when verified."""
    append(5)
    verify_incrementally()
    bypass_row_triggers()
    db.session.execute(
        text("UPDATE audit_event SET entry_hash = :h WHERE sequence = 5"), {"h": "a" * 64}
    )
    db.session.commit()
    result = verify_incrementally()
    assert (result.broken_at_sequence, result.reason) == (5, "event changed after it was verified")


def test_a_chain_shorter_than_the_point_is_found(app_ctx):
    """Cutting the tail under the verified point (point kept) is reported, incrementally and in
    full."""
    append(6)
    verify_incrementally()
    point = db.session.get(AuditVerifiedPoint, 1)
    saved = (point.sequence, point.entry_hash, point.mac)
    cut_tail(4)  # also deletes the point; put it back as it was
    db.session.execute(
        text(
            "INSERT INTO audit_verified_point (id, sequence, entry_hash, mac) "
            "VALUES (1, :s, :h, :m)"
        ),
        dict(zip("shm", saved, strict=True)),
    )
    db.session.commit()
    for verify in (verify_incrementally, verify_chain):
        result = verify()
        assert result.broken_at_sequence == 5
        assert "verified up to 6" in result.reason
