"""Step 2b: repayment plans watched (``portal.plans.monitoring``): completed, broken, expired.

After positions (a broken plan's missed installment is then overdue, and its case refreshed by
the snapshot step) and before the cure step (a completed plan no longer keeps its case open).
The borrowers of broken plans are told with the run's contacts (``tell_broken``), like every
other contact only on today's run.
"""

from __future__ import annotations

from datetime import date, datetime

from portal.extensions import db
from portal.plans.monitoring import PlanReport, settle_plans, tell_broken_plans


def watch_plans(as_of: date, now: datetime) -> PlanReport:
    """Complete, break and expire plans for the run's date (nobody told yet). Commits."""
    report = settle_plans(as_of, now, notify=False)
    db.session.commit()
    return report


def tell_broken(as_of: date, now: datetime) -> int:
    """Queue the "plan_broken" notices not sent yet (this run's and recent ones). Commits."""
    told = tell_broken_plans(as_of, now)
    db.session.commit()
    return told
