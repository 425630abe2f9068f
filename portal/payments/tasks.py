"""Celery tasks of payments; each wraps one service call."""

from __future__ import annotations

from celery import shared_task

from portal.payments.receipts.pending import send_pending_receipts
from portal.timeutil import utcnow


@shared_task(name="payments.receipts")
def receipts_task() -> int:
    """Queue the email receipts of payments booked since the last pass (commits each)."""
    return send_pending_receipts(utcnow())
