"""A plan starts: its waiver is granted, and the loan's unpaid balance moves into its installments.

With a down payment, in the transaction that books it (``portal.payments.effects``): the waiver
first (``grant_waiver``, so the payment does not pay charges about to be forgiven), then the
payment through the waterfall, then ``restructure``. Without one, at consent (``activate``).

Restructuring keeps the originals: each unpaid original installment's dues are lowered to what
was paid on it, a ``PlanReschedule`` row says what left it, and it is marked
``rescheduled_into_plan_id``. The plan's installments are new rows of the loan
(``installment.plan_id``), so every rule that reads installments (what is overdue, the daily run,
reminders, the pay page, the payoff) works on the plan as on any schedule.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.audit.services import record as audit
from portal.extensions import db
from portal.loans.adjustments import waive
from portal.loans.charges.services import waterfall_of
from portal.loans.models import Component, Installment, Loan
from portal.payments.models import PaymentAttempt
from portal.plans.effects import after_activation
from portal.plans.models import PlanReschedule, PlanStatus, RepaymentPlan
from portal.plans.schedule import fill_components, refit

WAIVER_REASON = _l("Repayment plan: waived as agreed when the plan started.")


def _unpaid(loan_id: int) -> list[Installment]:
    """The loan's unpaid installments, oldest due first (the loan row is locked already)."""
    rows = db.session.scalars(
        select(Installment)
        .where(Installment.loan_id == loan_id)
        .order_by(Installment.due_date, Installment.sequence)
        .execution_options(populate_existing=True)
    ).all()
    return [i for i in rows if i.outstanding > 0]


def grant_waiver(plan: RepaymentPlan, *, now: datetime) -> int:
    """Waive the plan's late charges and interest, oldest installment first, through the one
    waiver (audited). What was owed may have shrunk since the offer: the plan then records
    what was actually waived. Returns the total. Flushes."""
    waived = {}
    wanted = {
        Component.LATE_CHARGE: plan.waived_late_charge_minor,
        Component.INTEREST: plan.waived_interest_minor,
    }
    installments = _unpaid(plan.loan_id)
    for component, amount in wanted.items():
        left = amount
        for installment in installments:
            take = min(left, installment.outstanding_of(component))
            if take > 0:
                waive(
                    installment,
                    component,
                    take,
                    reason=str(WAIVER_REASON),
                    now=now,
                    actor_id=None,
                )
                left -= take
        waived[component] = amount - left
    plan.waived_late_charge_minor = waived[Component.LATE_CHARGE]
    plan.waived_interest_minor = waived[Component.INTEREST]
    db.session.flush()
    return sum(waived.values())


def restructure(plan: RepaymentPlan, *, now: datetime) -> list[Installment]:
    """Move the loan's unpaid balance into the plan's installments and make the plan active.

    The consented dates stay; if the balance moved since consent (a payment or a charge in
    between), the difference is taken up by the last installments (``schedule.refit``).
    Flushes; returns the plan's installments.
    """
    loan = db.session.get_one(Loan, plan.loan_id)
    originals = _unpaid(plan.loan_id)
    moved = {component: 0 for component in Component}
    for installment in originals:
        for component in Component:
            amount = installment.outstanding_of(component)
            if amount <= 0:
                continue
            due = f"{component.value}_due"
            setattr(installment, due, getattr(installment, due) - amount)
            db.session.add(
                PlanReschedule(
                    plan_id=plan.id,
                    installment_id=installment.id,
                    component=component,
                    amount_minor=amount,
                )
            )
            moved[component] += amount
        installment.rescheduled_into_plan_id = plan.id
    consented = [(date.fromisoformat(s["due_date"]), s["amount_minor"]) for s in plan.schedule]
    schedule = refit(consented, sum(moved.values()))
    parts = fill_components([amount for _, amount in schedule], moved, waterfall_of(loan.product))
    last = db.session.scalar(
        select(Installment.sequence)
        .where(Installment.loan_id == loan.id)
        .order_by(Installment.sequence.desc())
        .limit(1)
    )
    created = [
        Installment(
            loan_id=loan.id,
            sequence=(last or 0) + n,
            due_date=due,
            principal_due=part.get(Component.PRINCIPAL, 0),
            interest_due=part.get(Component.INTEREST, 0),
            fee_due=part.get(Component.FEE, 0),
            late_charge_due=part.get(Component.LATE_CHARGE, 0),
            plan_id=plan.id,
        )
        for n, ((due, _amount), part) in enumerate(zip(schedule, parts, strict=True), start=1)
    ]
    db.session.add_all(created)
    plan.schedule = [{"due_date": d.isoformat(), "amount_minor": a} for d, a in schedule]
    plan.financed_minor = sum(moved.values())
    plan.status = PlanStatus.ACTIVE
    plan.activated_at = now
    db.session.flush()
    db.session.expire(loan, ["installments"])
    audit(
        "plan.activated",
        now=now,
        object_type="repayment_plan",
        object_id=plan.id,
        details={
            "loan": loan.id,
            "financed_minor": plan.financed_minor,
            "installments": len(created),
            "rescheduled": [i.id for i in originals],
        },
    )
    return created


def activate(plan: RepaymentPlan, *, now: datetime) -> None:
    """Start a plan that has no down payment: the waiver, the restructuring, and what follows
    (``portal.plans.effects``). Flushes."""
    grant_waiver(plan, now=now)
    restructure(plan, now=now)
    after_activation(plan, now=now)


def down_payment_plan(attempt_id: int) -> RepaymentPlan | None:
    """The plan waiting for this payment attempt as its down payment, if any."""
    return db.session.scalar(
        select(RepaymentPlan)
        .where(
            RepaymentPlan.down_payment_attempt_id == attempt_id,
            RepaymentPlan.status == PlanStatus.PENDING,
        )
        .execution_options(populate_existing=True)
    )


def before_down_payment(attempt_id: int, *, now: datetime) -> RepaymentPlan | None:
    """Before a down payment is booked: grant its plan's waiver. Returns the plan (None when
    the attempt is no plan's, or its plan was replaced meanwhile: the payment is then booked
    as any other). Flushes; in the booking's transaction."""
    # The loan's lock first, the one enrollment takes: a consent replacing this plan either
    # committed already (the plan then reads as canceled) or waits for the booking to end.
    loan_id = select(PaymentAttempt.loan_id).where(PaymentAttempt.id == attempt_id)
    db.session.execute(
        select(Loan.id).where(Loan.id == loan_id.scalar_subquery()).with_for_update()
    )
    plan = down_payment_plan(attempt_id)
    if plan is not None:
        grant_waiver(plan, now=now)
    return plan


def after_down_payment(plan: RepaymentPlan, *, now: datetime) -> None:
    """The down payment is booked: the rest of the balance moves into the plan. Flushes."""
    restructure(plan, now=now)
    after_activation(plan, now=now)
