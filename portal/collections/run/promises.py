"""Step 6: settle pending promises to pay: kept once paid, broken once their date passed."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Update, func, select, update

from portal.collections.models import CollectionCase, PromiseStatus, PromiseToPay
from portal.extensions import db
from portal.loans.models import Payment
from portal.sqlutil import plan_for_bulk


def keep_promises(as_of: date, *, loan_id: int | None = None) -> Update:
    """Pending promises (all, or a loan's) that payments since they were made have reached,
    marked kept on ``as_of``: the one rule for the run and for the booking of a payment."""
    promise = PromiseToPay
    paid_since = (
        select(func.coalesce(func.sum(Payment.amount_minor), 0))
        .join(CollectionCase, CollectionCase.loan_id == Payment.loan_id)
        .where(CollectionCase.id == promise.case_id, Payment.received_at >= promise.made_at)
        .scalar_subquery()
    )
    statement = update(promise).where(
        promise.status == PromiseStatus.PENDING, paid_since >= promise.amount_minor
    )
    if loan_id is not None:
        statement = statement.where(
            promise.case_id.in_(select(CollectionCase.id).where(CollectionCase.loan_id == loan_id))
        )
    return statement.values(status=PromiseStatus.KEPT.value, resolved_on=as_of).execution_options(
        synchronize_session=False
    )


def settle_promises(as_of: date) -> None:
    """Kept when payments since the promise reach its amount; broken once its date passed."""
    promise = PromiseToPay
    plan_for_bulk()
    db.session.execute(keep_promises(as_of))
    db.session.execute(
        update(promise)
        .where(promise.status == PromiseStatus.PENDING, promise.promised_on < as_of)
        .values(status=PromiseStatus.BROKEN.value, resolved_on=as_of)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
