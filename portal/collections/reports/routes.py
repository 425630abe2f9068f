"""Collections reports for staff: the overdue list and its CSV export, the portfolio dashboard.

Endpoints (blueprint ``collections_reports``, under /staff): ``overdue`` and ``overdue_csv``
(collectors and admins, each listing only the cases the viewer may open), ``portfolio`` (admins).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import format_date, format_percent
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.collections.labels import bucket_label, stage_label
from portal.collections.reports.forms import OverdueFilterForm
from portal.collections.reports.overdue import filter_choices, overdue_page, start_overdue_export
from portal.collections.reports.portfolio import (
    CURED,
    DEFAULT_PERIOD_DAYS,
    PERIOD_DAYS,
    Dashboard,
    Rate,
    portfolio_dashboard,
)
from portal.collections.strategy.services import current_strategy
from portal.extensions import db
from portal.money import minor_exponent
from portal.timeutil import local_today, portfolio_today, utcnow

bp = Blueprint("collections_reports", __name__, url_prefix="/staff")


def _filter_form() -> OverdueFilterForm:
    choices = filter_choices(current_user)
    return OverdueFilterForm(
        request.args,
        buckets=[b["name"] for b in current_strategy().buckets],
        collectors=choices.collectors,
        currencies=choices.currencies,
        default_currency=current_app.config["DEFAULT_CURRENCY"],
    )


@bp.get("/reports/overdue")
@role_required(Role.COLLECTOR, Role.ADMIN)
def overdue():
    """Open cases, 50 a page, filtered and sorted; filters that are not valid are pointed out."""
    form = _filter_form()
    filters, page = form.parse()
    result = overdue_page(filters, page, viewer=current_user)
    return render_template(
        "staff/collections/reports/overdue.html",
        form=form,
        filters=filters,
        result=result,
        query=form.query(),
        stage_label=stage_label,
    )


@bp.get("/reports/overdue.csv")
@role_required(Role.COLLECTOR, Role.ADMIN)
def overdue_csv():
    """The filtered open cases as CSV, streamed; the export is audited."""
    form = _filter_form()
    filters, _page = form.parse()
    if form.invalid_fields:
        flash(_("Please correct the filters before exporting."), "warning")
        kept: dict[str, Any] = request.args.to_dict()
        return redirect(url_for(".overdue", **kept), code=303)
    now = utcnow()
    chunks = start_overdue_export(
        filters, viewer=current_user, now=now, ip_address=request.remote_addr
    )
    db.session.commit()  # the audit event stands even if the download is interrupted
    today = portfolio_today(now)
    return Response(
        stream_with_context(chunks),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="overdue-{today.isoformat()}.csv"',
        },
    )


def _percent(rate: Rate) -> str:
    value = rate.value
    return "—" if value is None else format_percent(value, "#,##0.0%")


def _charts(dashboard: Dashboard) -> dict:
    """The data of the page's charts, labels in the reader's language, amounts in minor units."""
    currencies = dashboard.currencies
    by_week = dashboard.period.by_week
    return {
        "buckets": {
            "labels": [bucket_label(row.bucket) for row in dashboard.buckets],
            "loans": [row.loans for row in dashboard.buckets],
            "label": _("Open cases"),
        },
        "recovered": {
            "labels": [
                format_date(start, "short") if by_week else start.strftime("%Y-%m")
                for start, _amounts in dashboard.recovered_series
            ],
            "datasets": [
                {
                    "label": currency,
                    "exponent": minor_exponent(currency),
                    "minor": [
                        amounts.get(currency, 0) for _s, amounts in dashboard.recovered_series
                    ],
                }
                for currency in currencies
            ],
        },
        "collectors": {
            "labels": [name or _("Not assigned") for _id, name, _b in dashboard.by_collector],
            "open": [b.open_cases for _id, _n, b in dashboard.by_collector],
            "cured": [b.cured for _id, _n, b in dashboard.by_collector],
            "open_label": _("Open cases"),
            "cured_label": _("Cured in the period"),
        },
    }


def _roll_from(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@bp.get("/reports/portfolio")
@role_required(Role.ADMIN)
def portfolio():
    """Admins: buckets, roll rates, cure, promise-kept and contact rates, recoveries."""
    days = request.args.get("days", type=int)
    if days not in PERIOD_DAYS:
        if "days" in request.args:
            flash(_("That period is not available; showing the last 90 days."), "warning")
        days = DEFAULT_PERIOD_DAYS
    now = utcnow()
    timezone = current_app.config["DEFAULT_TIMEZONE"]
    dashboard = portfolio_dashboard(
        days=days,
        roll_from=_roll_from(request.args.get("roll")),
        today=local_today(timezone, now),
        now=now,
        timezone=timezone,
    )
    return render_template(
        "staff/collections/reports/portfolio.html",
        dashboard=dashboard,
        charts=_charts(dashboard),
        periods=PERIOD_DAYS,
        percent=_percent,
        stage_label=stage_label,
        cured_key=CURED,
    )
