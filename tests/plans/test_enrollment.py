"""Enrolling a loan in a plan: the borrower's consent stored, every refusal writing nothing, a
double submit, a consent replacing one still waiting, approval, no down payment, proposals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.loans.models import LedgerAdjustment, Loan
from portal.plans.enrollment import (
    ConsentMissing,
    OfferStale,
    OfferUnavailable,
    PlanIneligible,
    PlanRefused,
    propose,
)
from portal.plans.models import PlanStatus, RepaymentPlan
from portal.plans.offers import Ineligible
from portal.plans.terms import PLAN_TERMS_VERSION
from tests.plans.conftest import NOW, TODAY, consent, quoted, save_policy

BALANCE = 324_000 + 5 * 1_001  # the five overdue installments' late charges and every due


def _plans() -> list[RepaymentPlan]:
    db.session.expire_all()
    return list(db.session.scalars(select(RepaymentPlan).order_by(RepaymentPlan.id)))


def _nothing_written() -> None:
    db.session.rollback()
    assert _plans() == []
    assert db.session.scalar(select(func.count()).select_from(LedgerAdjustment)) == 0


def test_consent_makes_a_pending_plan_with_the_consent_stored(plan_loan):
    """Priced as shown: balance, waiver, down payment, schedule; consent with time, address,
    user agent and the terms' version; waiting for the down payment."""
    plan = consent(plan_loan)
    db.session.commit()
    (stored,) = _plans()
    assert stored.id == plan.id
    assert stored.status is PlanStatus.PENDING
    assert stored.balance_minor == BALANCE == quoted(plan_loan)
    assert stored.waived_late_charge_minor == 5_005 * 2500 // 10_000
    assert stored.down_payment_minor == -(-BALANCE // 10)
    amounts = [s["amount_minor"] for s in stored.schedule]
    assert len(amounts) == 6
    assert sum(amounts) == stored.financed_minor
    assert stored.financed_minor + stored.down_payment_minor + stored.waiver_minor == BALANCE
    assert amounts[:-1] == [amounts[0]] * 5
    assert 0 <= amounts[-1] - amounts[0] < 6
    assert (stored.consented_by, stored.consented_at) == (plan_loan.borrower_id, NOW)
    assert stored.consent_ip == "203.0.113.7"
    assert stored.consent_user_agent == "Mozilla/5.0 (test)"
    assert stored.terms_version == PLAN_TERMS_VERSION
    assert stored.activated_at is None
    # Nothing moved yet: the waiver waits for the down payment.
    assert db.session.scalar(select(func.count()).select_from(LedgerAdjustment)) == 0


def test_consent_missing_is_refused(plan_loan):
    with pytest.raises(ConsentMissing):
        consent(plan_loan, consent=False)
    _nothing_written()


def test_another_borrowers_loan_is_not_found(plan_loan, make_user):
    from portal.loans.services import LoanNotFound

    with pytest.raises(LoanNotFound):
        consent(plan_loan, borrower_id=make_user().id)
    _nothing_written()


def test_a_loan_not_yet_overdue_is_ineligible(app_ctx, make_user, make_loan):
    from tests.plans.conftest import PlanLoan

    borrower = make_user()
    loan = PlanLoan(borrower.id, make_loan(borrower.id, disbursed_on=TODAY - timedelta(days=20)))
    with pytest.raises(PlanIneligible) as refused:
        consent(loan, quoted_balance_minor=1)
    assert refused.value.reason is Ineligible.TOO_EARLY
    _nothing_written()


def test_a_loan_with_an_active_plan_is_ineligible(plan_loan):
    save_policy(down_payment_kind="none")
    first = consent(plan_loan)
    db.session.commit()
    assert first.status is PlanStatus.ACTIVE
    with pytest.raises(PlanIneligible) as refused:
        consent(plan_loan, term="3-monthly", quoted_balance_minor=first.balance_minor)
    assert refused.value.reason is Ineligible.ACTIVE_PLAN


def test_too_many_plans_in_a_year_is_ineligible(plan_loan):
    loan = db.session.get_one(Loan, plan_loan.loan_id)
    for status, days_ago in ((PlanStatus.BROKEN, 200), (PlanStatus.COMPLETED, 100)):
        db.session.add(
            RepaymentPlan(
                loan_id=loan.id,
                borrower_id=loan.borrower_id,
                status=status,
                policy_version=0,
                installment_count=3,
                frequency="monthly",
                currency="CNY",
                balance_minor=10_000,
                financed_minor=10_000,
                start_on=TODAY - timedelta(days=days_ago),
                schedule=[],
                activated_at=NOW - timedelta(days=days_ago),
                created_at=NOW - timedelta(days=days_ago),
            )
        )
    db.session.commit()
    with pytest.raises(PlanIneligible) as refused:
        consent(plan_loan, quoted_balance_minor=BALANCE)
    assert refused.value.reason is Ineligible.TOO_MANY_PLANS
    db.session.rollback()
    assert len(_plans()) == 2


def test_an_unknown_term_is_unavailable(plan_loan):
    with pytest.raises(OfferUnavailable):
        consent(plan_loan, term="7-monthly")
    _nothing_written()


def test_a_stale_quote_is_refused_and_nothing_written(plan_loan):
    """The balance changed since the borrower saw the offers: re-priced, nothing enrolled."""
    with pytest.raises(OfferStale) as refused:
        consent(plan_loan, quoted_balance_minor=quoted(plan_loan) + 100)
    assert refused.value.status_code == 409
    _nothing_written()


def test_submitting_the_same_consent_twice_returns_the_same_plan(plan_loan):
    first = consent(plan_loan)
    db.session.commit()
    second = consent(plan_loan)
    db.session.commit()
    assert second.id == first.id
    assert len(_plans()) == 1


def test_submitting_twice_without_a_down_payment_returns_the_active_plan(plan_loan):
    """Activated at the first submit (its waiver lowered the balance): the reload still gets
    the plan consented to, not a refusal."""
    save_policy(down_payment_kind="none")
    first = consent(plan_loan)
    db.session.commit()
    quote = first.balance_minor
    second = consent(plan_loan, quoted_balance_minor=quote)
    db.session.commit()
    assert second.id == first.id
    assert [p.status for p in _plans()] == [PlanStatus.ACTIVE]


def test_a_new_consent_replaces_a_plan_waiting_for_its_down_payment(plan_loan):
    old = consent(plan_loan)
    db.session.commit()
    new = consent(plan_loan, term="3-monthly")
    db.session.commit()
    first, second = _plans()
    assert (first.id, second.id) == (old.id, new.id)
    assert (first.status, first.end_reason, first.ended_on) == (
        PlanStatus.CANCELED,
        "replaced",
        TODAY,
    )
    assert (second.status, second.installment_count) == (PlanStatus.PENDING, 3)


def test_a_plan_above_the_approval_limit_awaits_approval(plan_loan):
    save_policy(approval_balance_minor=100_000)
    plan = consent(plan_loan)
    db.session.commit()
    assert plan.status is PlanStatus.AWAITING_APPROVAL
    assert plan.needs_approval
    assert plan.activated_at is None


def test_without_a_down_payment_the_plan_is_active_at_once(plan_loan):
    save_policy(down_payment_kind="none")
    plan = consent(plan_loan)
    db.session.commit()
    assert plan.status is PlanStatus.ACTIVE
    assert plan.down_payment_minor == 0
    assert plan.activated_at == NOW


def test_a_collectors_proposal_waits_for_the_borrowers_consent(plan_loan, make_user):
    from portal.auth.models import Role

    collector = make_user(Role.COLLECTOR)
    proposal = propose(
        loan_id=plan_loan.loan_id,
        term="6-monthly",
        quoted_balance_minor=quoted(plan_loan),
        actor_id=collector.id,
        today=TODAY,
        now=NOW,
    )
    db.session.commit()
    assert proposal.status is PlanStatus.PROPOSED
    assert proposal.consented_at is None
    assert proposal.proposed_by == collector.id
    # A second proposal replaces the first.
    again = propose(
        loan_id=plan_loan.loan_id,
        term="3-monthly",
        quoted_balance_minor=quoted(plan_loan),
        actor_id=collector.id,
        today=TODAY,
        now=NOW,
    )
    db.session.commit()
    plan = consent(plan_loan, term="3-monthly")
    db.session.commit()
    proposed, replaced, consented = _plans()
    assert (proposed.status, replaced.id) == (PlanStatus.CANCELED, again.id)
    assert replaced.status is PlanStatus.CANCELED
    assert consented.id == plan.id
    assert consented.status is PlanStatus.PENDING
    assert consented.consented_by == plan_loan.borrower_id
    assert consented.proposed_by == collector.id  # the proposal it came from
    # Once the borrower agreed, a collector cannot replace it.
    with pytest.raises(PlanRefused):
        propose(
            loan_id=plan_loan.loan_id,
            term="6-monthly",
            quoted_balance_minor=quoted(plan_loan),
            actor_id=collector.id,
            today=TODAY,
            now=NOW,
        )


def test_a_consent_that_loses_the_race_for_the_live_slot_returns_the_winner(plan_loan, monkeypatch):
    """Another consent took the loan's live plan between the read and the insert (the unique
    index says so): that plan is returned and the transaction still commits."""
    from portal.plans import enrollment

    winner = consent(plan_loan)
    db.session.commit()
    monkeypatch.setattr(
        enrollment, "plan_history", lambda loan_id, now: enrollment.PlanHistory(None, 0)
    )
    loser = consent(plan_loan, term="3-monthly")
    db.session.commit()
    assert loser.id == winner.id
    assert [(p.id, p.status) for p in _plans()] == [(winner.id, PlanStatus.PENDING)]
