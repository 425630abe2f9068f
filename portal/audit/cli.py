"""``flask --app wsgi audit ...``: checks on the audit log.

Exit codes: 0 intact; 1 the chain is broken or contradicts the checkpoint; 2 the command could
not check (a checkpoint file that is unreadable or not signed with this ``AUDIT_KEY``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from portal.audit.checkpoint import (
    CheckpointInvalid,
    check_checkpoint,
    make_checkpoint,
    read_checkpoint,
)
from portal.audit.services import count_events, verify_chain, verify_incrementally
from portal.timeutil import utcnow

audit_cli = AppGroup("audit", help="Inspect the tamper-evident audit log.")


@audit_cli.command("verify")
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A file written by `audit checkpoint`: also fail if the chain was cut or rewritten "
    "after it.",
)
def verify_command(checkpoint_file: Path | None) -> None:
    """Recompute the hash chain; print the result as JSON and exit 1 at the first broken link."""
    checkpoint = None
    if checkpoint_file is not None:
        try:
            checkpoint = read_checkpoint(checkpoint_file.read_text(encoding="utf-8"))
        except (CheckpointInvalid, UnicodeDecodeError) as error:
            raise click.UsageError(f"{checkpoint_file}: {error}") from error
    total = count_events()
    # Progress on stderr, so stdout stays one machine-readable JSON line.
    with click.progressbar(length=total, label="Verifying audit chain", file=sys.stderr) as bar:
        result = verify_chain(progress=bar.update)
    output = result.as_dict()
    contradiction = check_checkpoint(checkpoint) if checkpoint is not None else None
    if checkpoint is not None:
        output["checkpoint"] = {"sequence": checkpoint.sequence, "matches": contradiction is None}
    if result.intact and contradiction is not None:
        output.update(intact=False, broken_at_sequence=contradiction[0], reason=contradiction[1])
    click.echo(json.dumps(output))
    if not output["intact"]:
        click.echo(
            f"Audit chain broken at event {output['broken_at_sequence']}: {output['reason']}.",
            err=True,
        )
        raise SystemExit(1)


@audit_cli.command("checkpoint")
@click.option(
    "--file",
    "checkpoint_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the checkpoint here (default: print it on stdout, for the log).",
)
def checkpoint_command(checkpoint_file: Path | None) -> None:
    """Verify what was appended since the last check, then write the signed head (sequence,
    hash, time) outside the database; exit 1 without writing if the chain is broken."""
    result = verify_incrementally()
    if not result.intact:
        click.echo(json.dumps(result.as_dict()))
        click.echo(
            f"Audit chain broken at event {result.broken_at_sequence}: {result.reason}; "
            "no checkpoint written.",
            err=True,
        )
        raise SystemExit(1)
    checkpoint = make_checkpoint(result, now=utcnow())
    if checkpoint_file is None:
        click.echo(checkpoint.to_json())
        return
    checkpoint_file.write_text(checkpoint.to_json() + "\n", encoding="utf-8")
    click.echo(f"Checkpoint at event {checkpoint.sequence} written to {checkpoint_file}.", err=True)
