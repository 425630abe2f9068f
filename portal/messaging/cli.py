"""``flask --app wsgi messaging ...``: deliver the outbox, sweep it, generate reminders."""

from __future__ import annotations

import json
import sys
import time as wall_time
from dataclasses import asdict

import click
from flask.cli import AppGroup

from portal.extensions import db
from portal.messaging.dispatch import dispatch_due, sweep_stuck
from portal.timeutil import utcnow

messaging_cli = AppGroup("messaging", help="Deliver messages and generate reminders.")


@messaging_cli.command("dispatch")
@click.option("--forever", is_flag=True, help="Keep running, polling for due messages.")
@click.option("--batch-size", default=200, show_default=True)
@click.option("--interval", default=5.0, show_default=True, help="Seconds between polls.")
def dispatch_command(forever: bool, batch_size: int, interval: float) -> None:
    """Deliver every message that is due, print a JSON summary, and exit (or --forever)."""
    while True:
        swept = sweep_stuck(utcnow())
        report = dispatch_due(utcnow, batch_size=batch_size)
        db.session.remove()
        if report.claimed or swept or not forever:
            click.echo(json.dumps({"swept": swept, **asdict(report)}))
            sys.stdout.flush()
        if not forever:
            return
        wall_time.sleep(interval)


@messaging_cli.command("sweep")
def sweep_command() -> None:
    """Re-queue messages left in 'sending' by a worker that died."""
    click.echo(json.dumps({"swept": sweep_stuck(utcnow())}))


@messaging_cli.command("reminders")
def reminders_command() -> None:
    """Queue today's pre-due and due-day reminders (idempotent); print a JSON summary."""
    from portal.messaging.reminders import generate_reminders

    report = generate_reminders(utcnow())
    db.session.commit()
    click.echo(json.dumps(asdict(report)))


@messaging_cli.command("install-templates")
def install_templates_command() -> None:
    """Create the built-in message templates that do not exist yet (never overwrites)."""
    from portal.messaging.default_templates import install_default_templates

    created = install_default_templates(now=utcnow())
    db.session.commit()
    click.echo(json.dumps({"templates_created": created}))
