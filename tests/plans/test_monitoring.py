"""Plans in the daily run and after a payment: completed plans cure their case, a missed plan
installment breaks the plan after the grace days (not before), waiting plans lapse, reruns
change nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from portal.collections.models import CaseStatus, CaseTransition, CollectionCase
from portal.collections.run import run_collections
from portal.extensions import db
from portal.loans.models import PaymentMethod
from portal.loans.services import record_payment
from portal.messaging.models import Message
from portal.payments import effects
from portal.plans.models import PlanStatus, RepaymentPlan
from tests.plans.conftest import consent, save_policy

FIRST_PLAN_DUE = date(2026, 12, 28)  # a month after the plan started on TODAY
GRACE_DAYS = 5


def morning(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)


def run(day: date):
    return run_collections(day, now=morning(day), contacts=False)


def _active_plan(plan_loan) -> int:
    save_policy(down_payment_kind="none")
    plan = consent(plan_loan)
    db.session.commit()
    assert plan.status is PlanStatus.ACTIVE
    return plan.id


def _plan(plan_id: int) -> RepaymentPlan:
    db.session.expire_all()
    return db.session.get_one(RepaymentPlan, plan_id)


def _case(loan_id: int) -> CollectionCase:
    db.session.expire_all()
    return db.session.scalars(select(CollectionCase).where(CollectionCase.loan_id == loan_id)).one()


def _kinds(case_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(CaseTransition.kind).where(CaseTransition.case_id == case_id).order_by("id")
        )
    )


def _pay(loan_id: int, amount: int, day: date):
    return record_payment(
        loan_id=loan_id,
        amount_minor=amount,
        currency="CNY",
        method=PaymentMethod.ALIPAY,
        received_at=morning(day),
    )


def _notices(loan_id: int, purpose: str) -> list[str]:
    return sorted(
        m.channel.value
        for m in db.session.scalars(
            select(Message).where(Message.loan_id == loan_id, Message.purpose == purpose)
        )
    )


def test_the_run_completes_a_fully_paid_plan_and_cures_its_case(plan_loan):
    plan_id = _active_plan(plan_loan)
    _pay(plan_loan.loan_id, _plan(plan_id).financed_minor, date(2026, 12, 1))
    db.session.commit()
    report = run(date(2026, 12, 1))
    assert report.plans_completed == 1
    plan = _plan(plan_id)
    assert (plan.status, plan.end_reason, plan.ended_on) == (
        PlanStatus.COMPLETED,
        "paid",
        date(2026, 12, 1),
    )
    case = _case(plan_loan.loan_id)
    assert case.status is CaseStatus.CURED
    assert _kinds(case.id)[-2:] == ["plan_completed", "cured"]


def test_paying_the_last_plan_installment_completes_the_plan_at_once(plan_loan):
    """``record_payment`` then ``effects.after_booking``, as every booking path does."""
    plan_id = _active_plan(plan_loan)
    payment = _pay(plan_loan.loan_id, _plan(plan_id).financed_minor, date(2026, 12, 1))
    change = effects.after_booking(payment, now=morning(date(2026, 12, 1)))
    db.session.commit()
    assert change.case.value == "cured"
    assert _plan(plan_id).status is PlanStatus.COMPLETED
    case = _case(plan_loan.loan_id)
    assert case.status is CaseStatus.CURED
    assert "plan_completed" in _kinds(case.id)


def test_a_part_payment_keeps_the_plan_and_the_case_in_plan(plan_loan):
    plan_id = _active_plan(plan_loan)
    payment = _pay(plan_loan.loan_id, 10_000, date(2026, 12, 1))
    change = effects.after_booking(payment, now=morning(date(2026, 12, 1)))
    db.session.commit()
    assert change.case.value == "in_plan"
    assert _plan(plan_id).status is PlanStatus.ACTIVE
    assert _case(plan_loan.loan_id).status is CaseStatus.OPEN


def test_a_missed_plan_installment_breaks_the_plan_after_the_grace_days(plan_loan):
    """Within the grace days the plan holds; the day after, it breaks: the case is back in
    collections with its figures and the reason, and the borrower is told."""
    plan_id = _active_plan(plan_loan)
    last_grace_day = date.fromordinal(FIRST_PLAN_DUE.toordinal() + GRACE_DAYS)
    assert run(last_grace_day).plans_broken == 0
    assert _plan(plan_id).status is PlanStatus.ACTIVE
    assert _case(plan_loan.loan_id).status is CaseStatus.OPEN
    assert _notices(plan_loan.loan_id, "plan_broken") == []

    broken_on = date.fromordinal(last_grace_day.toordinal() + 1)
    # Today's run with its contacts: the broken plan's notice goes with them.
    report = run_collections(broken_on, now=morning(broken_on))
    assert (report.plans_broken, report.plans_told) == (1, 1)
    plan = _plan(plan_id)
    assert (plan.status, plan.end_reason, plan.ended_on) == (
        PlanStatus.BROKEN,
        "missed_payment",
        broken_on,
    )
    case = _case(plan_loan.loan_id)
    assert case.status is CaseStatus.OPEN
    assert case.oldest_unpaid_due == FIRST_PLAN_DUE
    assert case.overdue_principal > 0
    assert "plan_broken" in _kinds(case.id)
    assert _notices(plan_loan.loan_id, "plan_broken") == ["email", "portal"]


def test_a_rerun_of_the_same_date_changes_nothing(plan_loan):
    plan_id = _active_plan(plan_loan)
    broken_on = date(2027, 1, 3)
    run(broken_on)
    transitions = db.session.scalar(select(func.count()).select_from(CaseTransition))
    messages = db.session.scalar(select(func.count()).select_from(Message))
    again = run(broken_on)
    assert (again.plans_broken, again.plans_completed, again.plans_expired) == (0, 0, 0)
    assert _plan(plan_id).status is PlanStatus.BROKEN
    assert db.session.scalar(select(func.count()).select_from(CaseTransition)) == transitions
    assert db.session.scalar(select(func.count()).select_from(Message)) == messages


def test_a_plan_waiting_for_its_down_payment_lapses_after_seven_days(plan_loan):
    plan = consent(plan_loan)  # the default policy: a down payment is due
    db.session.commit()
    assert plan.status is PlanStatus.PENDING
    assert run(date(2026, 12, 5)).plans_expired == 0  # exactly seven days: still waiting
    assert _plan(plan.id).status is PlanStatus.PENDING
    assert run(date(2026, 12, 6)).plans_expired == 1
    lapsed = _plan(plan.id)
    assert (lapsed.status, lapsed.end_reason) == (PlanStatus.CANCELED, "expired")


def test_a_plan_awaiting_approval_waits_and_then_has_seven_days_from_the_approval(
    plan_loan, make_user
):
    from datetime import timedelta

    from portal.auth.models import Role
    from portal.plans.approval import approve_plan

    save_policy(approval_balance_minor=1)  # every plan needs an admin
    plan = consent(plan_loan)
    db.session.commit()
    assert plan.status is PlanStatus.AWAITING_APPROVAL
    assert run(date(2026, 12, 10)).plans_expired == 0  # the admin has not decided: no lapse
    admin = make_user(Role.ADMIN)
    approved_at = datetime(2026, 12, 10, 3, 0, tzinfo=UTC)
    approve_plan(plan.id, admin_id=admin.id, now=approved_at, ip_address=None)
    db.session.commit()
    assert run(date(2026, 12, 16)).plans_expired == 0  # six days after the approval
    assert _plan(plan.id).status is PlanStatus.PENDING
    assert _plan(plan.id).decided_at == approved_at
    assert run((approved_at + timedelta(days=8)).date()).plans_expired == 1


def test_after_a_broken_plan_the_borrower_may_enroll_again(plan_loan):
    """The broken plan's unpaid installments move into the new plan, exactly."""
    from portal.loans.models import Installment
    from tests.plans.conftest import quoted

    broken_id = _active_plan(plan_loan)
    day = date(2027, 1, 3)
    run(day)
    assert _plan(broken_id).status is PlanStatus.BROKEN
    balance = quoted(plan_loan, today=day)
    again = consent(plan_loan, today=day, now=morning(day), quoted_balance_minor=balance)
    db.session.commit()
    assert again.status is PlanStatus.ACTIVE
    db.session.expire_all()
    installments = list(
        db.session.scalars(select(Installment).where(Installment.loan_id == plan_loan.loan_id))
    )
    old = [i for i in installments if i.plan_id == broken_id]
    new = [i for i in installments if i.plan_id == again.id]
    assert all(i.rescheduled_into_plan_id == again.id and i.outstanding == 0 for i in old)
    assert sum(i.outstanding for i in new) == balance - again.waiver_minor
    assert sum(i.outstanding for i in installments) == balance - again.waiver_minor
