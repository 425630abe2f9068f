"""On PostgreSQL: concurrent consents for one loan make one plan, and a consent racing the
booking of a down payment leaves one live plan and a ledger that adds up."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

import portal.plans.activation as activation
from portal.extensions import db
from portal.loans.models import Installment, LedgerAdjustment, Payment
from portal.plans.enrollment import PlanRefused
from portal.plans.models import LIVE_PLAN_STATUSES, PlanStatus, RepaymentPlan
from tests.plans.conftest import confirm_in_sandbox, consent, open_down_payment, quoted

pytestmark = pytest.mark.postgres

THREADS = 4
BALANCE = 324_000 + 5 * 1_001


def _in_thread(app, work, errors: list) -> threading.Thread:
    def target():
        with app.app_context():
            try:
                work()
                db.session.commit()
            except PlanRefused:
                db.session.rollback()
            except Exception as error:  # noqa: BLE001 - a deadlock or a duplicate surfaces here
                errors.append(error)
                db.session.rollback()

    return threading.Thread(target=target)


def _run(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive()


def _plans(loan_id: int) -> list[RepaymentPlan]:
    db.session.expire_all()
    return list(db.session.scalars(select(RepaymentPlan).where(RepaymentPlan.loan_id == loan_id)))


@pytest.mark.parametrize("terms", [["6-monthly"] * THREADS, ["6-monthly", "3-monthly"] * 2])
def test_concurrent_consents_for_one_loan_make_one_live_plan(app, plan_loan, terms):
    """The same consent sent at once from several tabs is one plan; different ones end with
    exactly one live plan, the others replaced."""
    quote = quoted(plan_loan)
    db.session.commit()
    start = threading.Barrier(len(terms))
    errors: list[Exception] = []

    def consent_to(term):
        start.wait()
        consent(plan_loan, term=term, quoted_balance_minor=quote)

    _run([_in_thread(app, lambda t=t: consent_to(t), errors) for t in terms])
    assert errors == []
    plans = _plans(plan_loan.loan_id)
    live = [p for p in plans if p.status.value in LIVE_PLAN_STATUSES]
    assert len(live) == 1
    assert live[0].status is PlanStatus.PENDING
    if len(set(terms)) == 1:
        assert len(plans) == 1
    assert all(p.end_reason == "replaced" for p in plans if p is not live[0])


def _ledger_adds_up(loan_id: int) -> None:
    """Every minor unit of the balance is still owed, paid or waived: nothing lost or doubled."""
    db.session.expire_all()
    due = db.session.scalar(
        select(func.sum(Installment.total_due)).where(Installment.loan_id == loan_id)
    )
    paid = db.session.scalar(
        select(func.sum(Installment.total_paid)).where(Installment.loan_id == loan_id)
    )
    waived = db.session.scalar(select(func.coalesce(func.sum(LedgerAdjustment.amount_minor), 0)))
    booked = db.session.scalar(select(func.sum(Payment.amount_minor - Payment.unallocated_minor)))
    assert due + waived == BALANCE
    assert paid == booked


def test_a_consent_racing_the_down_payment_booking_leaves_one_plan(app, plan_loan, monkeypatch):
    """The booking has read the plan waiting for its down payment when the borrower consents
    to another plan: whichever goes first, one plan is live and the ledger adds up."""
    plan = consent(plan_loan)
    db.session.commit()
    attempt = open_down_payment(plan)
    plan_read, consented = threading.Event(), threading.Event()
    original = activation.down_payment_plan

    def slow_read(attempt_id):
        found = original(attempt_id)
        plan_read.set()
        consented.wait(timeout=3)  # the consent goes first, unless the booking holds the loan
        return found

    monkeypatch.setattr(activation, "down_payment_plan", slow_read)
    errors: list[Exception] = []

    def book():
        confirm_in_sandbox(attempt)

    def consent_again():
        plan_read.wait(timeout=10)
        try:
            consent(plan_loan, term="3-monthly", quoted_balance_minor=BALANCE)
        finally:
            consented.set()

    _run([_in_thread(app, book, errors), _in_thread(app, consent_again, errors)])
    assert errors == []
    plans = _plans(plan_loan.loan_id)
    live = [p for p in plans if p.status.value in LIVE_PLAN_STATUSES]
    assert len(live) == 1
    _ledger_adds_up(plan_loan.loan_id)
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1
    if live[0].id == plan.id:  # the booking went first: the plan it paid for is active
        assert live[0].status is PlanStatus.ACTIVE
    else:  # the consent went first: the payment is an ordinary one, the new plan waits
        assert live[0].status is PlanStatus.PENDING
        assert db.session.scalar(select(func.count()).select_from(LedgerAdjustment)) == 0
