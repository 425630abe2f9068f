"""Complaint reports for admins (blueprint ``complaints_reports``, ``/staff/complaints/reports``):
the page for a period and its by-category table as CSV.

The period comes from ``from``/``to`` (ISO dates, both included; default the last 90 days). Dates
that are not valid are refused with a message next to the field, and nothing is counted.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.complaints.labels import COMPLAINT_LABELS
from portal.complaints.reports import (
    MAX_PERIOD_DAYS,
    ComplaintReport,
    Period,
    complaint_report,
    default_period,
)
from portal.csvexport import csv_bytes
from portal.timeutil import local_today, utcnow

bp = Blueprint("complaints_reports", __name__, url_prefix="/staff/complaints/reports")

BAD_DATE = _l("Enter a date such as 2026-03-31.")


def _date(name: str, default: date, errors: dict) -> date:
    text = (request.args.get(name) or "").strip()
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[name] = BAD_DATE
        return default


def _period(today: date) -> tuple[Period, dict]:
    """The period asked for, and the messages of fields that were not valid."""
    errors: dict = {}
    fallback = default_period(today)
    start = _date("from", fallback.start, errors)
    end = _date("to", fallback.end, errors)
    if not errors and start > end:
        errors["to"] = _l("“To” must not be before “from”.")
    elif not errors and (end - start).days > MAX_PERIOD_DAYS:
        errors["from"] = _l("Choose a period of at most ten years.")
    return Period(start, end), errors


def _report() -> tuple[ComplaintReport | None, Period, dict]:
    now = utcnow()
    timezone = current_app.config["DEFAULT_TIMEZONE"]
    period, errors = _period(local_today(timezone, now))
    if errors:
        return None, period, errors
    return complaint_report(period, timezone=timezone, now=now), period, errors


def _chart(report: ComplaintReport) -> dict:
    labels = COMPLAINT_LABELS.categories
    return {
        "labels": [str(labels[row.key]) for row in report.by_category],
        "complaints": [row.complaints for row in report.by_category],
        "label": _("Complaints"),
    }


@bp.get("/")
@role_required(Role.ADMIN)
def reports():
    """Volumes, lateness, medians, remedies and causes of the complaints of a period."""
    report, period, errors = _report()
    return render_template(
        "staff/complaints/reports.html",
        report=report,
        period=period,
        errors=errors,
        typed={name: request.args.get(name, "") for name in ("from", "to")},
        chart=_chart(report) if report else None,
        labels=COMPLAINT_LABELS,
    ), (400 if errors else 200)


@bp.get("/categories.csv")
@role_required(Role.ADMIN)
def categories_csv():
    """The by-category table as CSV (labels in the reader's language)."""
    report, period, errors = _report()
    if report is None:
        return reports()
    labels = COMPLAINT_LABELS.categories
    header = [_("Category"), _("Complaints"), _("Acknowledged late"), _("Resolved late")]
    rows = [
        [labels[v.key], v.complaints, v.acknowledged_late, v.resolved_late]
        for v in report.by_category
    ]
    name = f"complaints-by-category-{period.start.isoformat()}-{period.end.isoformat()}.csv"
    return Response(
        csv_bytes(header, rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
