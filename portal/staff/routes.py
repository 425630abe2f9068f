"""The staff area's landing page: the portfolio at a glance."""

from __future__ import annotations

from flask import Blueprint, render_template

from portal.auth.permissions import staff_required
from portal.collections.strategy.services import current_strategy
from portal.loans.services import portfolio_by_bucket
from portal.timeutil import portfolio_today, utcnow

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.get("/")
@staff_required
def home():
    today = portfolio_today(utcnow())
    # The same buckets as the collections run and reports: the strategy in force.
    buckets = portfolio_by_bucket(today, current_strategy().bucket_edges)
    return render_template("staff/home.html", buckets=buckets, today=today)
