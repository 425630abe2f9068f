"""Step 6: settle pending promises to pay: kept once paid, broken once their date passed."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select, update

from portal.collections.models import CollectionCase, PromiseStatus, PromiseToPay
from portal.extensions import db
from portal.loans.models import Payment
from portal.sqlutil import plan_for_bulk


def settle_promises(as_of: date) -> None:
    """Kept when payments since the promise reach its amount; broken once its date passed."""
    promise = PromiseToPay
    plan_for_bulk()
    paid_since = (
        select(func.coalesce(func.sum(Payment.amount_minor), 0))
        .join(CollectionCase, CollectionCase.loan_id == Payment.loan_id)
        .where(CollectionCase.id == promise.case_id, Payment.received_at >= promise.made_at)
        .scalar_subquery()
    )
    db.session.execute(
        update(promise)
        .where(promise.status == PromiseStatus.PENDING, paid_since >= promise.amount_minor)
        .values(status=PromiseStatus.KEPT.value, resolved_on=as_of)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(promise)
        .where(promise.status == PromiseStatus.PENDING, promise.promised_on < as_of)
        .values(status=PromiseStatus.BROKEN.value, resolved_on=as_of)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
