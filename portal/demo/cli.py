"""``flask --app wsgi demo seed``: the demo data, never in production."""

from __future__ import annotations

import json
from datetime import datetime

import click
from flask import current_app
from flask.cli import AppGroup

from portal.auth.models import Channel
from portal.demo.build import seed
from portal.extensions import db
from portal.messaging.dispatch import dispatch_due
from portal.timeutil import portfolio_today, utcnow

demo_cli = AppGroup("demo", help="Demo data for trying the portal.")


@demo_cli.command("seed")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Build the portfolio around this date (default: today in DEFAULT_TIMEZONE).",
)
@click.option("--borrowers", default=50, show_default=True, help="How many extra borrowers.")
def seed_command(today: datetime | None, borrowers: int) -> None:
    """Create demo accounts (password demo1234), about 50 borrowers and 120 days of history;
    safe to run twice."""
    if current_app.config["PORTAL_ENV"] == "production":
        raise click.ClickException("Demo data is never created in production.")
    as_of = today.date() if today else portfolio_today(utcnow())
    result = seed(as_of, borrowers)
    db.session.commit()
    # In-portal notices need no outside service: deliver them now, so the demo shows them.
    dispatch_due(utcnow, channels={Channel.PORTAL})
    click.echo(json.dumps({"today": as_of.isoformat(), **result.__dict__}))
