"""Step 2b: repayment plans watched (``portal.plans.monitoring``): completed, broken, expired.

After positions (a broken plan's missed installment is then overdue, and its case refreshed by
the snapshot step) and before the cure step (a completed plan no longer keeps its case open).
"""

from __future__ import annotations

from datetime import date, datetime

from portal.extensions import db
from portal.plans.monitoring import PlanReport, settle_plans


def watch_plans(as_of: date, now: datetime) -> PlanReport:
    """Complete, break and expire plans for the run's date. Commits."""
    report = settle_plans(as_of, now)
    db.session.commit()
    return report
