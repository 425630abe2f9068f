"""Collections runs started at once on PostgreSQL: the run row is the lock, and the partial
unique index keeps one open case per loan whatever happens."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from portal.collections.models import (
    CaseStatus,
    CaseTransition,
    CollectionCase,
    CollectionRun,
)
from portal.collections.run import RunInProgress, RunReport, positions, run_collections
from portal.extensions import db
from portal.loans.models import Loan
from portal.sqlutil import plan_for_bulk

pytestmark = pytest.mark.postgres

AS_OF = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
LOANS = 20


@pytest.fixture
def overdue_loans(app, make_user, make_loan):
    """LOANS loans, each with one installment 1 to LOANS days past due on AS_OF."""
    borrower = make_user()
    ids = []
    with app.app_context():
        for n in range(1, LOANS + 1):
            loan_id = make_loan(borrower.id, disbursed_on=date(2026, 1, 1), terms=1)
            db.session.get(Loan, loan_id).installments[0].due_date = AS_OF - timedelta(days=n)
            db.session.commit()
            ids.append(loan_id)
    return ids


def _run_in_thread(app, start: threading.Barrier) -> RunReport | str:
    with app.app_context():
        start.wait()
        try:
            return run_collections(AS_OF, now=NOW, contacts=False)
        except RunInProgress:
            return "in progress"


def _state(app) -> tuple[int, int, int, list[str]]:
    with app.app_context():
        cases = db.session.scalar(select(func.count()).select_from(CollectionCase))
        loans = db.session.scalar(select(func.count(func.distinct(CollectionCase.loan_id))))
        opened = db.session.scalar(
            select(func.count()).select_from(CaseTransition).where(CaseTransition.kind == "opened")
        )
        runs = list(db.session.scalars(select(CollectionRun.status)))
        return cases or 0, loans or 0, opened or 0, runs


def test_two_runs_at_once_one_works_the_other_is_refused(app, overdue_loans, monkeypatch):
    """While one run holds the date, a second started at the same moment gets RunInProgress."""
    real = positions.rebuild_positions

    def slow_rebuild(*args, **kwargs):
        real(*args, **kwargs)
        time.sleep(0.5)  # hold the run open so that the other thread certainly overlaps

    monkeypatch.setattr(positions, "rebuild_positions", slow_rebuild)
    start = threading.Barrier(2)
    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(lambda _: _run_in_thread(app, start), range(2)))

    reports = [o for o in outcomes if isinstance(o, RunReport)]
    assert outcomes.count("in progress") == 1
    assert len(reports) == 1
    assert reports[0].cases_opened == LOANS
    assert _state(app) == (LOANS, LOANS, LOANS, ["finished"])


def test_runs_racing_without_delay_never_duplicate_cases(app, overdue_loans):
    """Four runs released together: each either works or is refused; the cases exist once."""
    start = threading.Barrier(4)
    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(lambda _: _run_in_thread(app, start), range(4)))

    reports = [o for o in outcomes if isinstance(o, RunReport)]
    assert reports, outcomes
    assert all(o == "in progress" for o in outcomes if not isinstance(o, RunReport))
    # The first run opened every case; any run that started after it finished found nothing.
    assert sorted(r.cases_opened for r in reports) == [0] * (len(reports) - 1) + [LOANS]
    assert all(r.transitions == 0 for r in reports if r.cases_opened == 0)
    assert _state(app) == (LOANS, LOANS, LOANS, ["finished"])


def test_a_second_open_case_for_a_loan_is_refused_by_the_database(app, overdue_loans):
    """uq_collection_case_open_loan: one open case per loan; closed ones do not count."""
    with app.app_context():
        run_collections(AS_OF, now=NOW, contacts=False)
        case = db.session.scalars(
            select(CollectionCase).where(CollectionCase.loan_id == overdue_loans[0])
        ).one()

        def copy_of(status: CaseStatus) -> CollectionCase:
            return CollectionCase(
                loan_id=case.loan_id,
                borrower_id=case.borrower_id,
                status=status,
                opened_on=AS_OF,
                stage=1,
                stage_entered_on=AS_OF,
                bucket="1-30",
                currency="CNY",
                strategy_version=0,
            )

        db.session.add(copy_of(CaseStatus.CURED))
        db.session.commit()  # a cured case beside the open one is fine
        db.session.add(copy_of(CaseStatus.OPEN))
        with pytest.raises(IntegrityError, match="uq_collection_case_open_loan"):
            db.session.commit()
        db.session.rollback()
        open_cases = db.session.scalar(
            select(func.count())
            .select_from(CollectionCase)
            .where(CollectionCase.loan_id == case.loan_id, CollectionCase.status == CaseStatus.OPEN)
        )
        assert open_cases == 1


def test_positions_are_an_unlogged_working_table(app_ctx):
    """Rebuilt by every run and read by nothing else: no WAL for it (migration 0005)."""
    persistence = db.session.scalar(
        text("SELECT relpersistence FROM pg_class WHERE relname = 'collection_position'")
    )
    assert persistence == "u"


def test_bulk_settings_end_with_the_transaction(app_ctx):
    """plan_for_bulk uses SET LOCAL: a pooled connection keeps the server's defaults."""
    default = db.session.scalar(text("SHOW work_mem"))
    plan_for_bulk(whole_table_join=True)
    assert db.session.scalar(text("SHOW enable_nestloop")) == "off"
    db.session.commit()
    assert db.session.scalar(text("SHOW work_mem")) == default
    assert db.session.scalar(text("SHOW enable_nestloop")) == "on"
