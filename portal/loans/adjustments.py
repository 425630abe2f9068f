"""Lowering what a loan owes without a payment: waivers and the payoff rebate, with a trail.

The one waiver of the portal: staff waiving late charges (step 6), plans waiving interest and
charges (step 7) and complaint remedies (step 9) all come through ``waive``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.audit.services import record as audit
from portal.domain import DomainError
from portal.extensions import db
from portal.loans.models import AdjustmentKind, Component, Installment, LedgerAdjustment, Loan

MAX_REASON = 500


class AdjustmentRefused(DomainError):
    status_code = 422


def waive(
    installment: Installment,
    component: Component,
    amount_minor: int,
    *,
    reason: str,
    now: datetime,
    actor_id: int | None,
    kind: AdjustmentKind = AdjustmentKind.WAIVER,
    ip_address: str | None = None,
) -> LedgerAdjustment:
    """Lower ``component`` of ``installment`` by ``amount_minor`` (at most what is unpaid).

    Locks the loan row first, like a payment, so a waiver and a payment to one loan never
    interleave. Audited as ``ledger.adjusted``. Raises AdjustmentRefused; flushes only.
    """
    reason = reason.strip()
    if not reason:
        raise AdjustmentRefused(_l("Give a reason for the waiver."))
    if len(reason) > MAX_REASON:
        raise AdjustmentRefused(_l("A reason has at most 500 characters."))
    db.session.execute(
        select(Loan.id).where(Loan.id == installment.loan_id).with_for_update()
    ).one()
    db.session.refresh(installment)
    if amount_minor <= 0 or amount_minor > installment.outstanding_of(component):
        raise AdjustmentRefused(_l("A waiver is more than zero and at most what is still owed."))
    due_attr = f"{component.value}_due"
    setattr(installment, due_attr, getattr(installment, due_attr) - amount_minor)
    adjustment = LedgerAdjustment(
        loan_id=installment.loan_id,
        installment_id=installment.id,
        component=component,
        kind=kind,
        amount_minor=amount_minor,
        reason=reason,
        actor_id=actor_id,
        created_at=now,
    )
    db.session.add(adjustment)
    db.session.flush()
    audit(
        "ledger.adjusted",
        now=now,
        actor_id=actor_id,
        object_type="loan",
        object_id=installment.loan_id,
        details={
            "adjustment": adjustment.id,
            "installment": installment.id,
            "component": component.value,
            "kind": kind.value,
            "amount_minor": amount_minor,
        },
        ip_address=ip_address,
    )
    return adjustment


def waive_all_due(
    loan_id: int,
    components: Sequence[Component],
    *,
    due_before: date,
    reason: str,
    now: datetime,
    actor_id: int | None,
    ip_address: str | None = None,
) -> int:
    """Waive everything unpaid of ``components`` on the loan's installments due before
    ``due_before`` (oldest first), each through ``waive``; returns the total (0: nothing was
    owed). A hardship decision and a complaint's remedy both forgive this way. Flushes."""
    installments = db.session.scalars(
        select(Installment)
        .where(Installment.loan_id == loan_id, Installment.due_date < due_before)
        .order_by(Installment.sequence)
    ).all()
    total = 0
    for installment in installments:
        for component in components:
            amount = installment.outstanding_of(component)
            if amount > 0:
                waive(
                    installment,
                    component,
                    amount,
                    reason=reason,
                    now=now,
                    actor_id=actor_id,
                    ip_address=ip_address,
                )
                total += amount
    return total
