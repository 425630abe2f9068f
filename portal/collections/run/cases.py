"""Step 2: open a case for each overdue loan that has none open, with its 'opened' transition."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import String, cast, exists, func, insert, literal, select

from portal.collections.models import CaseStatus, CaseTransition, CollectionCase, CollectionPosition
from portal.collections.strategy.services import Strategy
from portal.dbtypes import UTCDateTime
from portal.extensions import db
from portal.loans.models import Loan
from portal.sqlutil import (
    analyze,
    days_since,
    insert_from_select_skipping_conflicts,
    plan_for_bulk,
    rows_affected,
)

MANY_NEW_CASES = 10_000  # opening more than this, and more than there were, refreshes statistics


def _of_loan(column, loan_id):
    """A loan's attribute, looked up by key for each row (a subplan, not a join of every loan)."""
    return select(column).where(Loan.id == loan_id).scalar_subquery()


def opened_reason(dpd):
    """An 'opened' transition's reason, "overdue 12 dpd" (``labels.transition_reason`` reads
    it): in SQL, for a column or a number of days."""
    return literal("overdue ") + cast(dpd, String) + literal(" dpd")


def open_cases(as_of: date, strategy: Strategy, now: datetime) -> int:
    """Open a case for each overdue loan without an open one, with its 'opened' transition.

    Both inserts commit together, so the cases this run opened are exactly those above the
    highest case id before it: no anti-join on the tables being written (see
    ``insert_from_select_skipping_conflicts``), and a rerun adds nothing.
    """
    p, c = CollectionPosition, CollectionCase
    plan_for_bulk(whole_table_join=True)
    before = db.session.scalar(select(func.max(c.id))) or 0
    opened = rows_affected(
        db.session.execute(
            insert_from_select_skipping_conflicts(
                CollectionCase,
                [
                    "loan_id",
                    "borrower_id",
                    "status",
                    "opened_on",
                    "stage",
                    "stage_entered_on",
                    "bucket",
                    "oldest_unpaid_due",
                    "overdue_principal",
                    "overdue_interest",
                    "overdue_fee",
                    "overdue_late_charge",
                    "currency",
                    "strategy_version",
                    "legal_status",
                    "created_at",
                ],
                select(
                    p.loan_id,
                    _of_loan(Loan.borrower_id, p.loan_id),
                    literal(CaseStatus.OPEN.value),
                    literal(as_of),
                    p.dpd_stage,
                    literal(as_of),
                    p.bucket,
                    p.oldest_unpaid_due,
                    p.overdue_principal,
                    p.overdue_interest,
                    p.overdue_fee,
                    p.overdue_late_charge,
                    _of_loan(Loan.currency, p.loan_id),
                    literal(strategy.version),
                    literal("none"),
                    literal(now, UTCDateTime),
                ).where(~exists().where(c.loan_id == p.loan_id, c.status == CaseStatus.OPEN.value)),
                # uq_collection_case_open_loan: a loan with an open case keeps it. The NOT
                # EXISTS above skips most of them cheaply (one hash anti-join); the conflict
                # clause is what guarantees it.
                index_elements=[c.loan_id],
                index_where=c.status == CaseStatus.OPEN.value,
            )
        )
    )
    db.session.execute(
        insert(CaseTransition).from_select(
            ["case_id", "kind", "from_stage", "to_stage", "reason", "run_on", "created_at"],
            select(
                c.id,
                literal("opened"),
                literal(None),
                c.stage,
                opened_reason(days_since(as_of, c.oldest_unpaid_due)),
                literal(as_of),
                literal(now, UTCDateTime),
            ).where(c.id > before, c.status == CaseStatus.OPEN, c.opened_on == as_of),
        )
    )
    db.session.commit()
    # A first run (or a portfolio that doubled): the next statements must not plan for the
    # handful of cases the statistics still describe. A usual day opens a few percent.
    if opened > max(MANY_NEW_CASES, before):
        analyze(CollectionCase)
        db.session.commit()
    return opened
