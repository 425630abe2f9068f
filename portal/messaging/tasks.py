"""Celery tasks of messaging; each wraps one service call and commits."""

from __future__ import annotations

import logging
from dataclasses import asdict

from celery import shared_task

from portal.extensions import db
from portal.messaging.dispatch import dispatch_due, sweep_stuck
from portal.messaging.reminders import generate_reminders
from portal.timeutil import utcnow

log = logging.getLogger(__name__)


@shared_task(name="messaging.dispatch")
def dispatch_task() -> dict:
    """Deliver everything due (commits per message inside dispatch_due)."""
    report = asdict(dispatch_due(utcnow))
    if report["claimed"]:
        log.info("dispatch: %s", report)
    return report


@shared_task(name="messaging.sweep")
def sweep_task() -> int:
    """Re-queue messages whose worker died."""
    return sweep_stuck(utcnow())


@shared_task(name="messaging.reminders")
def reminders_task() -> dict:
    """Queue today's reminders (idempotent) and commit."""
    report = generate_reminders(utcnow())
    db.session.commit()
    return asdict(report)
