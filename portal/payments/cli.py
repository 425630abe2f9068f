"""``flask --app wsgi payments ...``: the processor against the ledger.

``reconcile`` prints a table on stdout, progress on stderr and, last, one JSON line (the whole
report). Exit codes: 0 nothing to fix; 1 differences found; 2 bad arguments or the processor
could not be read.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator

import click
from flask import current_app
from flask.cli import AppGroup

from portal.domain import DomainError
from portal.money import format_money
from portal.payments.gateway import payment_gateway
from portal.payments.reconciliation import (
    ReconciliationReport,
    parse_since,
    reconcile,
    start_of_day,
)
from portal.timeutil import portfolio_today, utcnow

payments_cli = AppGroup("payments", help="Payments taken through the processor.")

PROGRESS_EVERY = 100


@payments_cli.command("reconcile")
@click.option(
    "--since",
    "since_text",
    required=True,
    metavar="YYYY-MM-DD",
    help="First day to compare (midnight in DEFAULT_TIMEZONE); not after today.",
)
def reconcile_command(since_text: str) -> None:
    """List processor payments with no ledger entry, ledger payments the processor does not
    show as succeeded, and amount or currency mismatches; the last line is JSON."""
    try:
        day = parse_since(since_text, today=portfolio_today(utcnow()))
    except DomainError as error:
        raise click.BadParameter(str(error), param_hint="--since") from error
    read = 0

    def progress(count: int) -> None:
        nonlocal read
        read += count
        if read % PROGRESS_EVERY == 0:
            click.echo(f"Read {read} processor payments...", err=True)

    click.echo(f"Reading the processor's payments since {day.isoformat()}...", err=True)
    try:
        since = start_of_day(day, current_app.config["DEFAULT_TIMEZONE"])
        report = reconcile(payment_gateway(), since, progress=progress)
    except DomainError as error:
        click.echo(f"Error: {error}", err=True)
        raise SystemExit(2) from error
    click.echo(f"Read {report.processor_count} processor payments; compared.", err=True)
    for line in table_lines(report):
        click.echo(line)
    click.echo(json.dumps(report.as_dict()))
    if not report.clean:
        sys.exit(1)


HEADER = ("Kind", "Intent", "Loan", "Payment", "Processor", "Ledger", "Date (UTC)")


def table_lines(report: ReconciliationReport) -> Iterator[str]:
    """The differences as an aligned plain-text table (a summary line if there are none)."""
    rows = list(_rows(report))
    yield (
        f"{report.provider}: {report.processor_count} processor payments, "
        f"{report.ledger_count} ledger payments, {report.matched} matched, "
        f"{len(rows)} to look at."
    )
    if not rows:
        return
    widths = [max(len(row[i]) for row in (HEADER, *rows)) for i in range(len(HEADER))]
    for row in (HEADER, tuple("-" * w for w in widths), *rows):
        yield "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()


def _rows(report: ReconciliationReport) -> Iterator[tuple[str, ...]]:
    for entry in report.processor_only:
        yield (
            "not in ledger",
            entry.intent_id,
            _id(entry.loan_id),
            "-",
            _money(entry.amount_minor, entry.currency),
            "-",
            entry.at.strftime("%Y-%m-%d %H:%M"),
        )
    for entry in report.ledger_only:
        yield (
            "not at processor",
            entry.intent_id,
            _id(entry.loan_id),
            _id(entry.payment_id),
            "-",
            _money(entry.amount_minor, entry.currency),
            entry.at.strftime("%Y-%m-%d %H:%M"),
        )
    for mismatch in report.mismatches:
        yield (
            "amount differs",
            mismatch.intent_id,
            _id(mismatch.loan_id),
            _id(mismatch.payment_id),
            _money(mismatch.processor_amount_minor, mismatch.processor_currency),
            _money(mismatch.ledger_amount_minor, mismatch.ledger_currency),
            "",
        )


def _id(value: int | None) -> str:
    return "-" if value is None else str(value)


def _money(amount_minor: int, currency: str) -> str:
    return format_money(amount_minor, currency, "en")
