"""Promises to pay: recorded on their own or with the call that got them.

The rules, checked under the case's row lock so that two collectors cannot both add one: the
date is today or later in the borrower's time zone, the amount is more than zero and at most the
loan's outstanding balance, and a case has at most one pending promise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import format_date, get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal.audit.services import record as audit
from portal.auth.models import User
from portal.collections.cases.access import lock_open_case
from portal.collections.models import CaseStatus, CollectionCase, PromiseStatus, PromiseToPay
from portal.domain import DomainError
from portal.extensions import db
from portal.loans.models import Loan
from portal.loans.services import loan_of_borrower, loan_position
from portal.money import format_money, minor_exponent
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


class PromiseTooFar(PromiseRefused):
    field = "promised_on"

    def __init__(self, last_day: date):
        super().__init__(
            _l("Choose a date no later than %(date)s.", date=format_date(last_day, "medium"))
        )
        self.last_day = last_day


class PromiseBelowMinimum(PromiseRefused):
    field = "amount"

    def __init__(self, minimum: int, currency: str):
        super().__init__(
            _l(
                "The promised amount must be at least %(amount)s.",
                amount=format_money(minimum, currency, str(get_locale())),
            )
        )
        self.minimum = minimum


class NoOverdueCase(PromiseRefused):
    status_code = 409
    message = _l(
        "This loan has nothing overdue, so there is nothing to promise. "
        "You can pay an installment from the loan page at any time."
    )


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


@dataclass(frozen=True)
class BorrowerPromiseLimits:
    """How far ahead a borrower may promise (days after their today) and the least amount, in
    whole units of the loan's currency (config PROMISE_MAX_DAYS, PROMISE_MINIMUM_UNITS)."""

    max_days: int = 14
    minimum_units: int = 1


def open_case_of_borrower_loan(borrower_id: int, loan_id: int, *, lock: bool) -> CollectionCase:
    """The open case of the borrower's own loan (NoOverdueCase without one); ``lock`` takes its
    row lock. The caller has already checked that the loan is the borrower's."""
    query = select(CollectionCase).where(
        CollectionCase.loan_id == loan_id,
        CollectionCase.borrower_id == borrower_id,
        CollectionCase.status == CaseStatus.OPEN,
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    case = db.session.scalar(query)
    if case is None:
        raise NoOverdueCase()
    return case


def record_borrower_promise(
    loan_id: int,
    *,
    borrower: User,
    amount_minor: int,
    promised_on: date,
    now: datetime,
    limits: BorrowerPromiseLimits,
    ip_address: str | None = None,
) -> PromiseToPay:
    """A borrower's own promise on the open case of their loan: the staff rules
    (``check_promise``: today or later, at most the outstanding balance, one pending per case)
    plus the borrower's limits (at most ``limits.max_days`` ahead, at least the minimum).
    Audits ``case.promise_made_by_borrower``. Raises NotFound (not their loan), NoOverdueCase
    or a PromiseRefused. Flushes; the caller commits."""
    loan = loan_of_borrower(borrower.id, loan_id)
    case = open_case_of_borrower_loan(borrower.id, loan.id, lock=True)
    today = local_today(borrower.timezone, now)
    last_day = today + timedelta(days=limits.max_days)
    if promised_on > last_day:
        raise PromiseTooFar(last_day)
    minimum = limits.minimum_units * 10 ** minor_exponent(loan.currency)
    if 0 < amount_minor < minimum:
        raise PromiseBelowMinimum(minimum, loan.currency)
    check_promise(case, amount_minor=amount_minor, promised_on=promised_on, now=now)
    return add_promise(
        case,
        amount_minor=amount_minor,
        promised_on=promised_on,
        now=now,
        actor_id=borrower.id,
        action="case.promise_made_by_borrower",
        ip_address=ip_address,
    )


def promises_of_loan(borrower_id: int, loan_id: int) -> list[PromiseToPay]:
    """The borrower's promises on this loan's cases, newest first (one query)."""
    return list(
        db.session.scalars(
            select(PromiseToPay)
            .join(CollectionCase, CollectionCase.id == PromiseToPay.case_id)
            .where(CollectionCase.loan_id == loan_id, CollectionCase.borrower_id == borrower_id)
            .order_by(PromiseToPay.made_at.desc(), PromiseToPay.id.desc())
        )
    )


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


def add_promise(
    case: CollectionCase,
    *,
    amount_minor: int,
    promised_on: date,
    now: datetime,
    actor_id: int,
    action: str,
    ip_address: str | None,
) -> PromiseToPay:
    """``insert_promise`` and its audit event ``action`` (who made it: a collector or the
    borrower)."""
    promise = insert_promise(
        case, amount_minor=amount_minor, promised_on=promised_on, now=now, actor_id=actor_id
    )
    audit(
        action,
        now=now,
        actor_id=actor_id,
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
    return add_promise(
        case,
        amount_minor=amount_minor,
        promised_on=promised_on,
        now=now,
        actor_id=viewer.id,
        action="case.promise_recorded",
        ip_address=ip_address,
    )
