"""``flask --app wsgi audit ...``: checks on the audit log."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import AppGroup

from portal.audit.services import count_events, verify_chain

audit_cli = AppGroup("audit", help="Inspect the tamper-evident audit log.")


@audit_cli.command("verify")
def verify_command() -> None:
    """Recompute the hash chain; print the result as JSON and exit 1 at the first broken link."""
    total = count_events()
    # Progress on stderr, so stdout stays one machine-readable JSON line.
    with click.progressbar(length=total, label="Verifying audit chain", file=sys.stderr) as bar:
        result = verify_chain(progress=bar.update)
    click.echo(json.dumps(result.as_dict()))
    if not result.intact:
        click.echo(
            f"Audit chain broken at event {result.broken_at_sequence}: {result.reason}.", err=True
        )
        raise SystemExit(1)
