"""On PostgreSQL: payments booked with their effects while the daily run works on the same
loans never deadlock, never cure a case twice and never leave a second case behind."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.collections.models import CaseStatus, CaseTransition, CollectionCase
from portal.collections.run import RunInProgress, run_collections
from portal.extensions import db
from portal.loans.models import Installment, Loan
from tests.payments.conftest import pay

pytestmark = pytest.mark.postgres

AS_OF = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
LOANS = 12
ROUNDS = 3


@pytest.fixture
def cases_to_pay(app, make_user, make_loan):
    """LOANS one-installment loans, 1 to LOANS days late, each with the case the run opened."""
    borrower = make_user()
    ids = []
    with app.app_context():
        for n in range(1, LOANS * ROUNDS + 1):
            loan_id = make_loan(borrower.id, disbursed_on=date(2026, 1, 1), terms=1)
            db.session.get(Loan, loan_id).installments[0].due_date = AS_OF - timedelta(days=n)
            db.session.commit()
            ids.append(loan_id)
        run_collections(AS_OF, now=NOW, contacts=False)
    return ids


def _in_thread(app, start: threading.Barrier, work, errors: list) -> threading.Thread:
    def target():
        with app.app_context():
            start.wait()
            try:
                work()
            except RunInProgress:
                pass
            except Exception as error:  # noqa: BLE001 - a deadlock would surface here
                errors.append(error)
                db.session.rollback()

    return threading.Thread(target=target)


def _pay_off(loan_id: int) -> None:
    amount = db.session.scalar(
        select(func.sum(Installment.outstanding)).where(Installment.loan_id == loan_id)
    )
    pay(loan_id, int(amount), NOW + timedelta(minutes=1), reference=f"pi_{loan_id}")


def test_payments_and_the_run_on_the_same_loans_cure_each_case_once(app, cases_to_pay):
    """Each round: a rerun of the day and a payment per loan, all let go at once."""
    errors: list[Exception] = []
    for round_number in range(ROUNDS):
        loans = cases_to_pay[round_number * LOANS : (round_number + 1) * LOANS]
        start = threading.Barrier(len(loans) + 1)
        threads = [
            _in_thread(app, start, lambda: run_collections(AS_OF, now=NOW, contacts=False), errors)
        ]
        threads += [
            _in_thread(app, start, lambda loan_id=loan_id: _pay_off(loan_id), errors)
            for loan_id in loans
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert errors == []
    with app.app_context():
        cases = db.session.scalars(select(CollectionCase).order_by(CollectionCase.id)).all()
        assert len(cases) == len(cases_to_pay)  # one per loan: none reopened, none doubled
        assert {(c.status, c.close_reason) for c in cases} == {(CaseStatus.CURED, "paid_off")}
        cured = db.session.execute(
            select(CaseTransition.case_id, func.count())
            .where(CaseTransition.kind == "cured")
            .group_by(CaseTransition.case_id)
        ).all()
        assert sorted(count for _, count in cured) == [1] * len(cases_to_pay)
