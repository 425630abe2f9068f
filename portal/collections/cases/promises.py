"""Promises to pay: recorded on their own or with the call that got them.

The rules, checked under the case's row lock so that two collectors cannot both add one: the
date is today or later in the borrower's time zone, the amount is more than zero and at most the
loan's outstanding balance, and a case has at most one pending promise.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal.audit.services import record as audit
from portal.auth.models import User
from portal.collections.cases.access import lock_open_case
from portal.collections.models import CollectionCase, PromiseStatus, PromiseToPay
from portal.domain import DomainError
from portal.extensions import db
from portal.loans.models import Loan
from portal.loans.services import loan_position
from portal.timeutil import local_today


class PromiseRefused(DomainError):
    """A promise that breaks a rule; ``field`` names the form field at fault (None: the form)."""

    status_code = 422
    field: str | None = None


class PromiseDateInPast(PromiseRefused):
    field = "promised_on"
    message = _l("The promised date is in the past for the borrower. Choose today or later.")


class PromiseNotPositive(PromiseRefused):
    field = "amount"
    message = _l("The promised amount must be more than zero.")


class PromiseAboveBalance(PromiseRefused):
    field = "amount"

    def __init__(self, outstanding: int, currency: str):
        super().__init__(_l("The promised amount is more than the outstanding balance."))
        self.outstanding = outstanding
        self.currency = currency


class PendingPromiseExists(PromiseRefused):
    message = _l(
        "This case already has a pending promise to pay. "
        "It is settled (kept or broken) by the daily run before another can be recorded."
    )


def check_promise(
    case: CollectionCase, *, amount_minor: int, promised_on: date, now: datetime
) -> None:
    """Raise a PromiseRefused if the promise breaks a rule. The caller holds the case's lock."""
    loan = db.session.execute(
        select(Loan).where(Loan.id == case.loan_id).options(selectinload(Loan.installments))
    ).scalar_one()
    timezone = db.session.execute(
        select(User.timezone).where(User.id == case.borrower_id)
    ).scalar_one()
    today = local_today(timezone, now)
    if promised_on < today:
        raise PromiseDateInPast()
    if amount_minor <= 0:
        raise PromiseNotPositive()
    outstanding = loan_position(loan, today).outstanding
    if amount_minor > outstanding:
        raise PromiseAboveBalance(outstanding, loan.currency)
    pending = db.session.scalar(
        select(func.count())
        .select_from(PromiseToPay)
        .where(PromiseToPay.case_id == case.id, PromiseToPay.status == PromiseStatus.PENDING)
    )
    if pending:
        raise PendingPromiseExists()


def insert_promise(
    case: CollectionCase, *, amount_minor: int, promised_on: date, now: datetime, actor_id: int
) -> PromiseToPay:
    """Add a promise that ``check_promise`` passed, on a case still locked since (not audited:
    the caller audits its action)."""
    promise = PromiseToPay(
        case_id=case.id,
        amount_minor=amount_minor,
        currency=case.currency,
        promised_on=promised_on,
        made_at=now,
        status=PromiseStatus.PENDING,
        created_by=actor_id,
    )
    db.session.add(promise)
    db.session.flush()
    return promise


def record_promise(
    case_id: int,
    *,
    viewer: User,
    amount_minor: int,
    promised_on: date,
    now: datetime,
    ip_address: str | None = None,
) -> PromiseToPay:
    """Record a promise to pay on an open case the viewer may open; audits
    ``case.promise_recorded``. Locks the case row. Raises CaseNotFound, CaseOfAnotherCollector,
    CaseNotOpen or a PromiseRefused. Flushes; the caller commits.
    """
    case = lock_open_case(case_id, viewer)
    check_promise(case, amount_minor=amount_minor, promised_on=promised_on, now=now)
    promise = insert_promise(
        case, amount_minor=amount_minor, promised_on=promised_on, now=now, actor_id=viewer.id
    )
    audit(
        "case.promise_recorded",
        now=now,
        actor_id=viewer.id,
        object_type="collection_case",
        object_id=case.id,
        details={
            "promise_id": promise.id,
            "amount_minor": amount_minor,
            "currency": case.currency,
            "promised_on": promised_on.isoformat(),
        },
        ip_address=ip_address,
    )
    return promise
