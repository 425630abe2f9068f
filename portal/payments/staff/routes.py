"""Staff: the processor against the ledger (blueprint ``payments_staff``, admins only).

``GET /staff/payments/reconciliation?since=YYYY-MM-DD`` (default: the last 30 days) shows the
same report as ``flask payments reconcile``.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.payments.gateway import ProcessorUnavailable, payment_gateway
from portal.payments.labels import attempt_status_label
from portal.payments.reconciliation import (
    InvalidSince,
    default_since,
    parse_since,
    reconcile,
    start_of_day,
)
from portal.timeutil import local_today, utcnow

bp = Blueprint("payments_staff", __name__, url_prefix="/staff/payments")


@bp.get("/reconciliation")
@role_required(Role.ADMIN)
def reconciliation():
    """Read only: asks the processor for its payments and compares them with the ledger."""
    timezone = current_app.config["DEFAULT_TIMEZONE"]
    today = local_today(timezone, utcnow())
    text = request.args.get("since", "").strip()
    page = {"since_text": text, "today": today, "attempt_status_label": attempt_status_label}
    try:
        since = parse_since(text, today=today) if text else default_since(today)
    except InvalidSince as error:
        template = "staff/payments/reconciliation.html"
        return render_template(template, since_error=error.message, **page), 422
    page["since_text"] = since.isoformat()
    try:
        report = reconcile(payment_gateway(), start_of_day(since, timezone))
    except ProcessorUnavailable as error:
        template = "staff/payments/reconciliation.html"
        return render_template(template, unavailable=error.message, since=since, **page), 503
    return render_template("staff/payments/reconciliation.html", report=report, since=since, **page)
