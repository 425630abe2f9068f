"""Celery tasks of collections; each wraps one service call."""

from __future__ import annotations

import logging
from dataclasses import asdict

from celery import shared_task

from portal.collections.run import RunInProgress, RunRefused, run_collections
from portal.timeutil import portfolio_today, utcnow

log = logging.getLogger(__name__)


@shared_task(name="collections.run")
def collections_run_task() -> dict | None:
    """Today's run (in DEFAULT_TIMEZONE). Scheduled hourly: re-running a day changes nothing,
    and the first run after local midnight does the day's work. Commits per step."""
    now = utcnow()
    try:
        report = run_collections(portfolio_today(now), now=now)
    except RunInProgress:
        log.info("collections run already in progress; skipped")
        return None
    except RunRefused as refused:  # e.g. no loans yet: nothing to evaluate today
        log.info("collections run skipped: %s", refused)
        return None
    return asdict(report)
