"""`flask audit checkpoint` and `flask audit verify --checkpoint`: cuts and re-chains after a
checkpoint are found, and the exit codes say which."""

import json

import pytest
from sqlalchemy import text

from portal.extensions import db
from tests.audit.conftest import append, cut_tail


def _verify(runner, *args):
    result = runner.invoke(args=["audit", "verify", *args])
    return result, result.stdout.strip().splitlines()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def checkpoint(app, runner, tmp_path):
    """Five events and a checkpoint file at the fifth."""
    with app.app_context():
        append(5)
    path = tmp_path / "audit-checkpoint.json"
    result = runner.invoke(args=["audit", "checkpoint", "--file", str(path)])
    assert result.exit_code == 0, result.output
    return path


def test_checkpoint_is_the_signed_head(app, runner, checkpoint):
    """The file holds sequence, hash, time and an HMAC; on stdout without --file."""
    written = json.loads(checkpoint.read_text())
    assert set(written) == {"sequence", "entry_hash", "created_at", "mac"}
    assert written["sequence"] == 5
    printed = runner.invoke(args=["audit", "checkpoint"])
    assert printed.exit_code == 0
    assert json.loads(printed.stdout.strip().splitlines()[-1])["sequence"] == 5


def test_verify_with_a_matching_checkpoint_passes(app, runner, checkpoint):
    """An intact chain that still reaches the checkpoint: exit 0, and the JSON says it matched."""
    with app.app_context():
        append(2, start=5)
    result, lines = _verify(runner, "--checkpoint", str(checkpoint))
    assert result.exit_code == 0
    assert json.loads(lines[-1])["checkpoint"] == {"sequence": 5, "matches": True}


def test_a_cut_tail_is_found_only_with_the_checkpoint(app, runner, checkpoint):
    """Events 4-5 deleted, the head set back and the verified point removed: the rest verifies,
    but not against the checkpoint (exit 1)."""
    with app.app_context():
        cut_tail(3)
    plain, _lines = _verify(runner)
    assert plain.exit_code == 0
    result, lines = _verify(runner, "--checkpoint", str(checkpoint))
    assert result.exit_code == 1
    output = json.loads(lines[-1])
    assert (output["intact"], output["broken_at_sequence"]) == (False, 4)
    assert "events were removed" in output["reason"]


def test_an_emptied_log_is_found_with_the_checkpoint(app, runner, checkpoint):
    """Every event deleted and the head reset to the start: exit 1 against the checkpoint."""
    with app.app_context():
        cut_tail(0)
    assert _verify(runner)[0].exit_code == 0
    result, lines = _verify(runner, "--checkpoint", str(checkpoint))
    assert result.exit_code == 1
    assert json.loads(lines[-1])["broken_at_sequence"] == 1


def test_a_chain_rewritten_after_the_checkpoint_is_found(app, runner, checkpoint):
    """Cut back to event 3, then new events appended (with the key, e.g. a restored backup):
    the chain is long enough and intact, but differs at the checkpoint's event."""
    with app.app_context():
        cut_tail(3)
        append(3, start=100)
    assert _verify(runner)[0].exit_code == 0
    result, lines = _verify(runner, "--checkpoint", str(checkpoint))
    assert result.exit_code == 1
    assert json.loads(lines[-1])["reason"] == "the chain was rewritten since the checkpoint"


def test_deleting_the_head_row_is_found(app, runner, checkpoint):
    """The chain head row deleted: verify exits 1, with or without the checkpoint."""
    with app.app_context():
        db.session.execute(text("DELETE FROM audit_chain_head"))
        db.session.commit()
    assert _verify(runner)[0].exit_code == 1
    result, lines = _verify(runner, "--checkpoint", str(checkpoint))
    assert result.exit_code == 1
    assert json.loads(lines[-1])["reason"] == "the chain head is missing"


@pytest.mark.parametrize("change", ["sequence", "mac", "garbage", "missing"])
def test_a_forged_or_unreadable_checkpoint_exits_2(app, runner, checkpoint, change):
    """A checkpoint not signed with this AUDIT_KEY, not a checkpoint, or missing: exit 2."""
    written = json.loads(checkpoint.read_text())
    if change == "missing":
        checkpoint.unlink()
    elif change == "sequence":
        written["sequence"] = 3  # as if the attacker wanted the cut to look expected
        checkpoint.write_text(json.dumps(written))
    elif change == "mac":
        written["mac"] = "0" * 64
        checkpoint.write_text(json.dumps(written))
    else:
        checkpoint.write_text("not json")
    result, _lines = _verify(runner, "--checkpoint", str(checkpoint))
    assert result.exit_code == 2


def test_no_checkpoint_of_a_broken_chain(app, runner, tmp_path):
    """`audit checkpoint` refuses to sign the head of a broken chain: exit 1, no file."""
    with app.app_context():
        append(2)
        db.session.execute(text("UPDATE audit_chain_head SET sequence = 7"))
        db.session.commit()
    path = tmp_path / "checkpoint.json"
    result = runner.invoke(args=["audit", "checkpoint", "--file", str(path)])
    assert result.exit_code == 1
    assert not path.exists()
