"""The staff area's landing page: the portfolio at a glance."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import gettext as _

from portal.auth.permissions import staff_required
from portal.collections.labels import bucket_label
from portal.collections.strategy.services import current_strategy
from portal.loans.services import portfolio_by_bucket
from portal.payments.issues.services import open_issue_count
from portal.timeutil import portfolio_today, utcnow

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.get("/")
@staff_required
def home():
    today = portfolio_today(utcnow())
    # The same buckets as the collections run and reports: the strategy in force.
    buckets = portfolio_by_bucket(today, current_strategy().bucket_edges)
    chart = {
        "labels": [bucket_label(row.bucket) for row in buckets],
        "loans": [row.loans for row in buckets],
        "label": _("Loans"),
    }
    return render_template(
        "staff/home.html",
        buckets=buckets,
        chart=chart,
        today=today,
        payment_issues=open_issue_count(),
    )
