"""``flask --app wsgi collections ...``."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime

import click
from flask.cli import AppGroup

from portal.collections.run import run_collections
from portal.domain import DomainError
from portal.forms import EARLIEST_YEAR, LATEST_YEAR
from portal.timeutil import portfolio_today, utcnow

collections_cli = AppGroup("collections", help="The collection workflow.")


@collections_cli.command("run")
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The date to evaluate (default: today in DEFAULT_TIMEZONE).",
)
@click.option("--no-contacts", is_flag=True, help="Update cases only; queue no messages.")
def run_command(as_of: datetime | None, no_contacts: bool) -> None:
    """Daily run: days past due, buckets, cases, stages, promises, contacts; one JSON line."""
    now = utcnow()
    day = as_of.date() if as_of else portfolio_today(now)
    if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:  # year 1 or 9999 overflow date arithmetic
        raise click.BadParameter(
            f"choose a date between {EARLIEST_YEAR} and {LATEST_YEAR}", param_hint="--as-of"
        )
    try:
        report = run_collections(day, now=now, contacts=not no_contacts)
    except DomainError as error:
        raise click.ClickException(str(error)) from error
    click.echo(json.dumps(asdict(report)))
