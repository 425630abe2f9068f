"""Step 0: late charges accrued for the run's date (``portal.loans.charges.accrual``), before
positions, so that positions, cases and notices carry them."""

from __future__ import annotations

from datetime import date

from portal.extensions import db
from portal.loans.charges.accrual import accrue_late_charges


def accrue_charges(as_of: date) -> int:
    """Accrue and post the day's late charges (set-based; a rerun adds nothing). Commits."""
    added = accrue_late_charges(as_of)
    db.session.commit()
    return added
