"""The message log: the outbox, newest first, with filters and a 7-day summary by status."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, render_template, request

from portal.auth.models import Channel
from portal.auth.permissions import staff_required
from portal.messaging.labels import (
    CHANNEL_LABELS,
    STATUS_BADGES,
    STATUS_COLOURS,
    STATUS_LABELS,
)
from portal.messaging.models import MessageStatus
from portal.messaging.purposes import PURPOSES
from portal.messaging.staff import forms  # a module import: forms imports our labels
from portal.messaging.staff.queries import MessageFilters, message_page, status_counts
from portal.timeutil import utcnow

bp = Blueprint("messaging_staff_log", __name__, url_prefix="/staff/messaging")

SUMMARY_DAYS = 7


def _filters(form: forms.MessageFilterForm) -> tuple[MessageFilters, int]:
    """The filters and page number of a query string; a value that is not valid is ignored."""
    form.validate()

    def chosen(field) -> str | None:
        return field.data or None if not field.errors else None

    status, channel = chosen(form.status), chosen(form.channel)
    filters = MessageFilters(
        status=MessageStatus(status) if status else None,
        channel=Channel(channel) if channel else None,
        purpose=chosen(form.purpose),
    )
    page = form.page.data if form.page.data and not form.page.errors else 1
    return filters, page


@bp.get("/messages")
@staff_required
def messages():
    """All staff: the outbox, 50 a page, filtered by status, channel and purpose."""
    form = forms.MessageFilterForm(request.args)
    filters, page = _filters(form)
    now = utcnow()
    result = message_page(filters, page)
    counts = status_counts(now - timedelta(days=SUMMARY_DAYS))
    chart = {
        "labels": [str(STATUS_LABELS[s]) for s in STATUS_LABELS if counts.get(s)],
        "counts": [counts[s] for s in STATUS_LABELS if counts.get(s)],
        "colours": [STATUS_COLOURS[s] for s in STATUS_LABELS if counts.get(s)],
    }
    query = {
        "status": filters.status.value if filters.status else None,
        "channel": filters.channel.value if filters.channel else None,
        "purpose": filters.purpose,
    }
    return render_template(
        "staff/messaging/messages.html",
        form=form,
        result=result,
        query={key: value for key, value in query.items() if value},
        now=now,
        chart=chart,
        summary_total=sum(counts.values()),
        summary_days=SUMMARY_DAYS,
        purposes=PURPOSES,
        channel_labels=CHANNEL_LABELS,
        status_labels=STATUS_LABELS,
        status_badges=STATUS_BADGES,
    )
