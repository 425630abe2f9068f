"""Step 4: open cases take their position's figures (only where they changed); at month end
the buckets are kept as ``delinquency_snapshot`` rows for roll rates."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import delete, insert, literal, or_, select, update

from portal.collections.models import (
    CaseStatus,
    CollectionCase,
    CollectionPosition,
    DelinquencySnapshot,
)
from portal.extensions import db
from portal.loans.models import Loan
from portal.sqlutil import plan_for_bulk


def refresh_snapshots(as_of: date) -> None:
    c, p = CollectionCase, CollectionPosition
    plan_for_bulk(whole_table_join=True)
    # Only rows whose figures changed (a payment, a new missed installment, a bucket boundary
    # crossed): days past due are derived from oldest_unpaid_due, so a case that merely grew a
    # day older is not rewritten, and a rerun for the same date rewrites nothing.
    changed = or_(
        c.bucket != p.bucket,
        c.oldest_unpaid_due.is_distinct_from(p.oldest_unpaid_due),
        c.overdue_principal != p.overdue_principal,
        c.overdue_interest != p.overdue_interest,
        c.overdue_fee != p.overdue_fee,
        c.overdue_late_charge != p.overdue_late_charge,
    )
    db.session.execute(
        update(c)
        .where(c.loan_id == p.loan_id, c.status == CaseStatus.OPEN, changed)
        .values(
            bucket=p.bucket,
            oldest_unpaid_due=p.oldest_unpaid_due,
            overdue_principal=p.overdue_principal,
            overdue_interest=p.overdue_interest,
            overdue_fee=p.overdue_fee,
            overdue_late_charge=p.overdue_late_charge,
        )
        .execution_options(synchronize_session=False)
    )
    if (as_of + timedelta(days=1)).day == 1:  # month end: keep buckets for roll rates
        db.session.execute(delete(DelinquencySnapshot).where(DelinquencySnapshot.as_of == as_of))
        db.session.execute(
            insert(DelinquencySnapshot).from_select(
                ["as_of", "loan_id", "bucket", "days_past_due", "overdue_total", "currency"],
                select(
                    literal(as_of),
                    p.loan_id,
                    p.bucket,
                    p.days_past_due,
                    p.overdue_principal
                    + p.overdue_interest
                    + p.overdue_fee
                    + p.overdue_late_charge,
                    Loan.currency,
                ).join(Loan, Loan.id == p.loan_id),
            )
        )
    db.session.commit()
