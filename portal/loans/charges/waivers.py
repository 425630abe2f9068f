"""Staff waiving a loan's late charges from its collection case, oldest installment first,
through the portal's one waiver (``portal.loans.adjustments.waive``)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.collections.cases.access import Viewer, lock_open_case
from portal.extensions import db
from portal.loans.adjustments import AdjustmentRefused, waive
from portal.loans.models import Component, Installment, LedgerAdjustment, Loan


def waive_case_late_charges(
    case_id: int,
    amount_minor: int,
    *,
    viewer: Viewer,
    reason: str,
    now: datetime,
    ip_address: str | None = None,
) -> list[LedgerAdjustment]:
    """Waive ``amount_minor`` of the late charges the case's loan still owes.

    Admins, and collectors who may open the case (``cases_visible_to``), on an open case. The
    amount is spread over the installments oldest first, one ``waive`` (adjustment + audit
    ``ledger.adjusted``) each; the case's overdue late charge drops at once. Raises CaseNotFound,
    CaseOfAnotherCollector, CaseNotOpen or AdjustmentRefused (zero, or more than is owed).
    Flushes only.
    """
    case = lock_open_case(case_id, viewer)
    # The loan row first, as a payment takes it (``waive`` takes it again): the two queue up.
    db.session.execute(select(Loan.id).where(Loan.id == case.loan_id).with_for_update()).one()
    installments = db.session.scalars(
        select(Installment)
        .where(
            Installment.loan_id == case.loan_id,
            Installment.late_charge_due > Installment.late_charge_paid,
        )
        .order_by(Installment.due_date, Installment.sequence)
        .execution_options(populate_existing=True)
    ).all()
    owed = sum(i.outstanding_of(Component.LATE_CHARGE) for i in installments)
    if amount_minor <= 0 or amount_minor > owed:
        raise AdjustmentRefused(
            _l("A waiver is more than zero and at most the late charges still owed.")
        )
    adjustments = []
    remaining = amount_minor
    for installment in installments:
        portion = min(remaining, installment.outstanding_of(Component.LATE_CHARGE))
        if portion <= 0:
            continue
        adjustments.append(
            waive(
                installment,
                Component.LATE_CHARGE,
                portion,
                reason=reason,
                now=now,
                actor_id=viewer.id,
                ip_address=ip_address,
            )
        )
        remaining -= portion
        if remaining == 0:
            break
    case.overdue_late_charge = max(0, case.overdue_late_charge - amount_minor)
    return adjustments
