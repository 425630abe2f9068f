import json
from datetime import datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from portal.audit.services import record, verify_chain
from portal.extensions import db
from tests.audit.conftest import append, bypass_row_triggers


def test_events_chain_each_to_the_previous(app_ctx):
    """Each event names the previous event's hash; the chain verifies intact."""
    append(3)
    events = db.session.execute(
        text("SELECT sequence, previous_hash, entry_hash FROM audit_event ORDER BY sequence")
    ).all()
    assert [e.sequence for e in events] == [1, 2, 3]
    assert events[1].previous_hash == events[0].entry_hash
    assert events[2].previous_hash == events[1].entry_hash
    result = verify_chain()
    assert result.intact
    assert result.events_checked == 3


def test_database_refuses_to_change_or_delete_events(app_ctx):
    """UPDATE and DELETE on audit_event are refused by the database itself."""
    append(1)
    for statement in ("UPDATE audit_event SET action = 'x'", "DELETE FROM audit_event"):
        with pytest.raises(DatabaseError):
            db.session.execute(text(statement))
        db.session.rollback()


def test_verify_finds_an_edited_event(app_ctx):
    """Editing an event's content is reported at that event."""
    append(5)
    bypass_row_triggers()
    db.session.execute(
        text("UPDATE audit_event SET details = '{\"amount_minor\": 1}' WHERE sequence = 3")
    )
    db.session.commit()
    result = verify_chain()
    assert (result.broken_at_sequence, result.reason) == (3, "content does not match its hash")
    assert result.events_checked == 2


def test_verify_finds_a_deleted_event(app_ctx):
    """Deleting an event from the middle is reported where the gap is."""
    append(5)
    bypass_row_triggers()
    db.session.execute(text("DELETE FROM audit_event WHERE sequence = 4"))
    db.session.commit()
    result = verify_chain()
    assert (result.broken_at_sequence, result.reason) == (4, "missing event")


def test_verify_finds_a_truncated_tail(app_ctx):
    """Deleting the newest events is caught by the chain head."""
    append(4)
    bypass_row_triggers()
    db.session.execute(text("DELETE FROM audit_event WHERE sequence = 4"))
    db.session.commit()
    result = verify_chain()
    assert (result.broken_at_sequence, result.reason) == (4, "events missing after the last one")


def test_verify_command_prints_json_and_exits_nonzero_when_broken(app):
    """`flask audit verify` prints the result as JSON; a broken chain exits 1."""
    runner = app.test_cli_runner()
    with app.app_context():
        append(2)
    intact = runner.invoke(args=["audit", "verify"])
    assert intact.exit_code == 0
    assert json.loads(intact.stdout.strip().splitlines()[-1])["intact"] is True
    with app.app_context():
        bypass_row_triggers()
        db.session.execute(text("UPDATE audit_event SET action = 'forged' WHERE sequence = 1"))
        db.session.commit()
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1
    assert json.loads(broken.stdout.strip().splitlines()[-1])["broken_at_sequence"] == 1


def test_event_recorded_with_a_local_time_still_verifies(app_ctx):
    """A time given in Shanghai time is stored and hashed as UTC, so the chain verifies."""
    from zoneinfo import ZoneInfo

    record("loan.viewed", now=datetime(2026, 11, 28, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    db.session.commit()
    assert verify_chain().intact
