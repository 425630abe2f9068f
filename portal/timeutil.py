"""Time helpers: UTC storage, the borrower's local calendar.

Stored times are UTC. Calendar questions ("what is today for this borrower?") are answered in
the borrower's time zone. Services take ``now``/``today`` as parameters; only adapters call
:func:`utcnow`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_today(timezone: str, now: datetime) -> date:
    """The calendar date at ``now`` in ``timezone`` (an IANA name such as Asia/Shanghai)."""
    return now.astimezone(ZoneInfo(timezone)).date()


def portfolio_today(now: datetime) -> date:
    """Today in the portfolio's zone (``DEFAULT_TIMEZONE``): the date of runs and reports.

    Adapters call it (it reads the app's configuration); services take ``today`` instead.
    """
    return local_today(current_app.config["DEFAULT_TIMEZONE"], now)
