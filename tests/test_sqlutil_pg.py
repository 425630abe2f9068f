"""SQL helpers on PostgreSQL, where psycopg prepares a statement from its sixth execution on a
connection and PostgreSQL plans it generically (parameters unknown) from the sixth after that."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from portal.collections.models import CollectionCase
from portal.collections.run import run_collections
from portal.extensions import db

pytestmark = pytest.mark.postgres

FIRST_DAY = date(2026, 11, 1)
DAYS = 15


def test_daily_runs_open_cases_after_the_statement_is_prepared(app_ctx, make_user, make_loan):
    """Fifteen daily runs on one connection each open the cases due: the partial unique index of
    ON CONFLICT is still found once the INSERT is prepared and planned generically."""
    borrower = make_user()
    for day in range(DAYS):  # one installment falling due each day, so each run opens a case
        make_loan(borrower.id, disbursed_on=FIRST_DAY - timedelta(days=31 - day), terms=1)
    for day in range(1, DAYS + 1):
        as_of = FIRST_DAY + timedelta(days=day)
        run_collections(as_of, now=datetime.combine(as_of, time(2), UTC), contacts=False)
    assert db.session.scalar(select(func.count()).select_from(CollectionCase)) == DAYS
