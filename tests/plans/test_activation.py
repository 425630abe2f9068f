"""A plan starts: the waiver exact in money with its trail, the originals kept and marked, the
balance moved exactly into the plan's installments, the case in plan, stale messages withdrawn
and the borrower told; with a down payment, in the transaction that books it."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.collections.models import CaseStatus, CaseTransition, CollectionCase
from portal.extensions import db
from portal.loans.models import AdjustmentKind, Installment, LedgerAdjustment, Loan, Payment
from portal.loans.services import loan_position
from portal.messaging.models import ContactKind, Message, MessageStatus
from portal.payments.models import AttemptStatus
from portal.plans.models import PlanReschedule, PlanStatus, RepaymentPlan
from tests.plans.conftest import (
    NOW,
    TODAY,
    confirm_in_sandbox,
    consent,
    open_down_payment,
    save_policy,
)

BALANCE = 324_000 + 5 * 1_001


def _installments(loan_id: int) -> list[Installment]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Installment).where(Installment.loan_id == loan_id).order_by("sequence")
        )
    )


def _queued_overdue_notice(plan_loan) -> int:
    message = Message(
        idempotency_key=uuid.uuid4().hex,
        borrower_id=plan_loan.borrower_id,
        loan_id=plan_loan.loan_id,
        purpose="overdue_stage_1",
        kind=ContactKind.COLLECTION,
        channel="email",
        locale="en",
        status=MessageStatus.QUEUED,
        not_before=NOW,
        created_at=NOW,
    )
    db.session.add(message)
    db.session.commit()
    return message.id


def _assert_restructured(plan: RepaymentPlan, originals: list[Installment]) -> None:
    """The originals kept, emptied to what was paid and marked; the plan's installments carry
    exactly what moved, as consented, the remainder on the last."""
    kept = [i for i in originals if i.plan_id is None]
    ours = [i for i in originals if i.plan_id == plan.id]
    assert len(kept) == 6
    assert all(i.rescheduled_into_plan_id == plan.id for i in kept)
    assert all(i.outstanding == 0 for i in kept)
    moved = db.session.scalar(
        select(func.sum(PlanReschedule.amount_minor)).where(PlanReschedule.plan_id == plan.id)
    )
    amounts = [i.total_due for i in ours]
    assert moved == sum(amounts) == plan.financed_minor
    assert plan.financed_minor == BALANCE - plan.waiver_minor - plan.down_payment_minor
    assert [i.due_date.isoformat() for i in ours] == [s["due_date"] for s in plan.schedule]
    assert amounts == [s["amount_minor"] for s in plan.schedule]
    assert len(ours) == plan.installment_count
    assert amounts[:-1] == [amounts[0]] * (len(amounts) - 1)
    assert 0 <= amounts[-1] - amounts[0] < len(amounts)
    assert min(i.due_date for i in ours) > TODAY


def test_activation_waives_exactly_and_restructures_the_balance(plan_loan):
    """No down payment: the late charge waiver in LedgerAdjustment rows (kind waiver, each
    audited), the balance less the waiver in the plan's installments."""
    save_policy(
        down_payment_kind="none",
        terms=[
            {
                "installments": 6,
                "frequency": "monthly",
                "late_charge_waiver_bps": 5000,
                "interest_waiver_bps": 5000,
            }
        ],
    )
    plan = consent(plan_loan)
    db.session.commit()
    assert plan.status is PlanStatus.ACTIVE
    # The five overdue installments' late charges (5 x 1,001) and all interest (21,000).
    assert plan.waived_late_charge_minor == 5_005 // 2
    assert plan.waived_interest_minor == 21_000 // 2
    adjustments = list(db.session.scalars(select(LedgerAdjustment)))
    assert {a.kind for a in adjustments} == {AdjustmentKind.WAIVER}
    assert sum(a.amount_minor for a in adjustments) == plan.waiver_minor
    audited = list(
        db.session.scalars(select(AuditEvent).where(AuditEvent.action == "ledger.adjusted"))
    )
    assert sorted(e.details["adjustment"] for e in audited) == sorted(a.id for a in adjustments)
    _assert_restructured(plan, _installments(plan_loan.loan_id))


def test_after_activation_the_case_is_in_plan_and_the_borrower_told(plan_loan):
    """Nothing overdue; the case open with zero figures and a "plan" transition; the queued
    collection message withdrawn; the plan's confirmation queued in the portal and by email."""
    save_policy(down_payment_kind="none")
    message_id = _queued_overdue_notice(plan_loan)
    plan = consent(plan_loan)
    db.session.commit()
    db.session.expire_all()
    loan = db.session.get_one(Loan, plan_loan.loan_id)
    position = loan_position(loan, TODAY)
    assert (position.overdue, position.days_past_due) == (0, 0)
    case = db.session.scalars(select(CollectionCase).where(CollectionCase.loan_id == loan.id)).one()
    assert case.status is CaseStatus.OPEN
    assert case.oldest_unpaid_due is None
    assert (case.overdue_principal, case.overdue_interest, case.overdue_fee) == (0, 0, 0)
    assert case.overdue_late_charge == 0
    kinds = db.session.scalars(
        select(CaseTransition.kind).where(CaseTransition.case_id == case.id)
    ).all()
    assert kinds.count("plan") == 1
    withdrawn = db.session.get_one(Message, message_id)
    assert withdrawn.status is MessageStatus.CANCELLED
    notices = db.session.scalars(
        select(Message).where(Message.purpose == "plan_confirmation", Message.loan_id == loan.id)
    ).all()
    assert sorted(m.channel.value for m in notices) == ["email", "portal"]
    assert all(m.status is MessageStatus.QUEUED for m in notices)
    assert all(str(plan.installment_count) in m.body_text for m in notices)


def test_a_down_payment_activates_the_plan_in_its_booking(plan_loan):
    """Waiver first, the payment through the waterfall, then the rest into the plan: all in
    the transaction that books the processor's event."""
    plan = consent(plan_loan)
    db.session.commit()
    assert plan.status is PlanStatus.PENDING
    attempt = open_down_payment(plan)
    confirm_in_sandbox(attempt)
    # Before the commit: the booking's own transaction did it.
    assert plan.status is PlanStatus.ACTIVE
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get_one(RepaymentPlan, plan.id)
    assert stored.status is PlanStatus.ACTIVE
    assert db.session.get_one(type(attempt), attempt.id).status is AttemptStatus.SUCCEEDED
    payment = db.session.scalars(select(Payment)).one()
    assert payment.amount_minor == stored.down_payment_minor == -(-BALANCE // 10)
    assert payment.unallocated_minor == 0
    assert sum(a.amount_minor for a in payment.allocations) == payment.amount_minor
    waived = db.session.scalar(select(func.sum(LedgerAdjustment.amount_minor)))
    assert waived == stored.waiver_minor == 5_005 * 2500 // 10_000
    _assert_restructured(stored, _installments(plan_loan.loan_id))
    assert (
        db.session.scalar(
            select(func.count()).select_from(Message).where(Message.purpose == "plan_confirmation")
        )
        == 2
    )


def test_a_payment_for_a_replaced_plans_attempt_books_without_activating(plan_loan):
    """The borrower chose another plan after opening the first one's down payment: paying the
    old attempt is an ordinary payment; the new plan still waits for its own."""
    old = consent(plan_loan)
    db.session.commit()
    attempt = open_down_payment(old)
    new = consent(plan_loan, term="3-monthly")
    db.session.commit()
    confirm_in_sandbox(attempt)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get_one(RepaymentPlan, old.id).status is PlanStatus.CANCELED
    assert db.session.get_one(RepaymentPlan, new.id).status is PlanStatus.PENDING
    payment = db.session.scalars(select(Payment)).one()
    assert payment.amount_minor == attempt.amount_minor
    assert db.session.scalar(select(func.count()).select_from(LedgerAdjustment)) == 0
    installments = _installments(plan_loan.loan_id)
    assert all(i.plan_id is None and i.rescheduled_into_plan_id is None for i in installments)
    assert sum(i.total_paid for i in installments) == attempt.amount_minor
