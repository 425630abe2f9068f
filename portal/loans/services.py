"""Loans, schedules and payments: the use cases other capabilities call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import joinedload, selectinload

from portal.domain import DomainError, NotFound
from portal.extensions import db
from portal.loans.allocation import Allocation, allocate
from portal.loans.charges.services import waterfall_of
from portal.loans.models import (
    Component,
    Installment,
    Loan,
    LoanProduct,
    LoanStatus,
    Payment,
    PaymentAllocation,
    PaymentMethod,
)
from portal.loans.schedule import build_schedule


class LoanNotFound(NotFound):
    message = _l("We could not find that loan.")


class PaymentRejected(DomainError):
    status_code = 422


class PaymentExceedsBalance(PaymentRejected):
    message = _l("The payment is more than the loan's outstanding balance.")


class CurrencyMismatch(PaymentRejected):
    message = _l("The payment's currency does not match the loan's currency.")


class LoanNotActive(PaymentRejected):
    message = _l("This loan is not active and cannot take payments.")


def create_loan(
    *,
    borrower_id: int,
    reference: str,
    product: LoanProduct,
    principal_minor: int,
    annual_rate_bps: int,
    fee_minor: int,
    currency: str,
    disbursed_on: date,
    terms: int,
) -> Loan:
    """Create a loan and its monthly schedule (flushes; the caller commits)."""
    loan = Loan(
        borrower_id=borrower_id,
        reference=reference,
        product=product,
        principal_minor=principal_minor,
        interest_rate_bps=annual_rate_bps,
        fees_minor=fee_minor,
        currency=currency,
        disbursed_on=disbursed_on,
        status=LoanStatus.ACTIVE,
    )
    for row in build_schedule(
        principal_minor=principal_minor,
        annual_rate_bps=annual_rate_bps,
        fee_minor=fee_minor,
        disbursed_on=disbursed_on,
        terms=terms,
    ):
        loan.installments.append(Installment(**row.__dict__))
    db.session.add(loan)
    db.session.flush()
    return loan


def record_payment(
    *,
    loan_id: int,
    amount_minor: int,
    currency: str,
    method: PaymentMethod,
    received_at: datetime,
    external_reference: str | None = None,
    waterfall: Sequence[Component] | None = None,
    keep_surplus: bool = False,
) -> Payment:
    """Book a payment and allocate it through ``waterfall`` (None: the loan product's charge
    policy's), oldest installment first.

    Idempotent on ``external_reference``: the same processor payment books once, and a repeat
    returns the first booking. The loan row is locked (``FOR UPDATE``) so two payments to one
    loan allocate one after the other. Money already taken (``keep_surplus``: a processor's
    payment) is never refused: what the balance cannot take stays on the payment as the
    borrower's credit. Otherwise raises LoanNotActive, CurrencyMismatch or
    PaymentExceedsBalance; LoanNotFound always. Flushes, the caller commits.
    """
    if amount_minor <= 0:
        raise PaymentRejected(_l("A payment must be more than zero."))
    loan, installments, booked = _locked_ledger(loan_id, external_reference)
    if booked is not None:
        return booked
    if not keep_surplus:
        if loan.status is not LoanStatus.ACTIVE:
            raise LoanNotActive()
        if currency != loan.currency:
            raise CurrencyMismatch()
    # A payment in another currency is not the loan's money: it is all credit, never allocated.
    allocation = allocate(
        installments,
        amount_minor if currency == loan.currency else 0,
        waterfall or waterfall_of(loan.product),
    )
    surplus = allocation.unallocated_minor + (0 if currency == loan.currency else amount_minor)
    if surplus and not keep_surplus:
        raise PaymentExceedsBalance()
    payment = Payment(
        loan_id=loan.id,
        amount_minor=amount_minor,
        currency=currency,
        method=method,
        received_at=received_at,
        external_reference=external_reference,
        unallocated_minor=surplus,
    )
    _post(payment, allocation)
    if loan.status is LoanStatus.ACTIVE and all(i.outstanding == 0 for i in installments):
        loan.status = LoanStatus.PAID_OFF
    db.session.add(payment)
    db.session.flush()
    return payment


def _locked_ledger(
    loan_id: int, external_reference: str | None
) -> tuple[Loan, list[Installment], Payment | None]:
    """The loan, row-locked; its installments; and the payment already booked under
    ``external_reference``, if any."""
    loan = db.session.execute(
        select(Loan)
        .where(Loan.id == loan_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if loan is None:
        raise LoanNotFound()
    # Read only once the lock is held (a statement that waited for it would see the rows as
    # they were before): the installments, and whether this processor payment is booked
    # already, in one round trip (a webhook books many payments a second).
    already_booked = (
        select(Payment.id).where(Payment.external_reference == external_reference)
    ).scalar_subquery()
    rows = db.session.execute(
        select(Installment, already_booked if external_reference else literal(None))
        .where(Installment.loan_id == loan.id)
        .order_by(Installment.sequence)
        .execution_options(populate_existing=True)
    ).all()
    booked = db.session.get_one(Payment, rows[0][1]) if rows and rows[0][1] is not None else None
    return loan, [installment for installment, _ in rows], booked


def _post(payment: Payment, allocation: Allocation) -> None:
    """Raise each installment's ``_paid`` by its part, with the allocation rows that say so."""
    for part in allocation.parts:
        installment, component = part.installment, part.component
        paid_attr = f"{component.value}_paid"
        setattr(installment, paid_attr, getattr(installment, paid_attr) + part.amount_minor)
        payment.allocations.append(
            PaymentAllocation(
                installment=installment, component=component, amount_minor=part.amount_minor
            )
        )


def preview_allocation(
    loan: Loan, amount_minor: int, waterfall: Sequence[Component] | None = None
) -> Allocation:
    """How ``amount_minor`` would be allocated on ``loan`` now: what ``record_payment`` books
    (``waterfall`` None: the loan product's charge policy's)."""
    return allocate(loan.installments, amount_minor, waterfall or waterfall_of(loan.product))


@dataclass(frozen=True)
class LoanPosition:
    """Where a loan stands on a given local date."""

    loan: Loan
    today: date
    outstanding: int
    overdue_by_component: dict[Component, int] = field(default_factory=dict)
    oldest_unpaid_due: date | None = None
    next_installment: Installment | None = None

    @property
    def overdue(self) -> int:
        return sum(self.overdue_by_component.values())

    @property
    def days_past_due(self) -> int:
        return days_past_due(self.oldest_unpaid_due, self.today)

    @property
    def is_overdue(self) -> bool:
        return self.days_past_due > 0

    @property
    def payoff(self) -> int:
        """What settles the loan today: everything owed on installments due up to the next due
        date, plus the principal of later ones (their interest is not earned yet and is
        dropped as a payoff rebate when the loan is paid off)."""
        horizon = self.next_installment.due_date if self.next_installment else self.today
        return sum(
            i.outstanding if i.due_date <= horizon else i.outstanding_of(Component.PRINCIPAL)
            for i in self.loan.installments
            if i.outstanding > 0
        )


def days_past_due(oldest_unpaid_due: date | None, today: date) -> int:
    """Days since the oldest unpaid due date (0 if nothing is past due on ``today``, local):
    what the borrower's pages show and what makes an overdue notice still true."""
    if oldest_unpaid_due is None or oldest_unpaid_due >= today:
        return 0
    return (today - oldest_unpaid_due).days


def oldest_unpaid_due_dates(loan_ids: set[int]) -> dict[int, date]:
    """Each loan's oldest unpaid due date (loans with nothing unpaid are left out); one query."""
    if not loan_ids:
        return {}
    rows = db.session.execute(
        select(Installment.loan_id, func.min(Installment.due_date))
        .where(Installment.loan_id.in_(loan_ids), Installment.outstanding > 0)
        .group_by(Installment.loan_id)
    )
    return {loan_id: oldest for loan_id, oldest in rows}


def loan_position(loan: Loan, today: date) -> LoanPosition:
    """Outstanding, overdue (split by component) and days past due, as of ``today`` (local)."""
    overdue = {component: 0 for component in Component}
    unpaid = [i for i in loan.installments if i.outstanding > 0]
    for installment in unpaid:
        if installment.due_date < today:
            for component in Component:
                overdue[component] += installment.outstanding_of(component)
    upcoming = [i for i in unpaid if i.due_date >= today]
    return LoanPosition(
        loan=loan,
        today=today,
        outstanding=sum(i.outstanding for i in unpaid),
        overdue_by_component=overdue,
        oldest_unpaid_due=unpaid[0].due_date if unpaid else None,
        next_installment=upcoming[0] if upcoming else None,
    )


def loans_of_borrower(borrower_id: int) -> list[Loan]:
    """A borrower's loans with their schedules, in one query (loans joined to installments).

    A joined load rather than a second SELECT ... IN: one statement instead of two, about a
    third less time for the dashboard's data.
    """
    return list(
        db.session.scalars(
            select(Loan)
            .where(Loan.borrower_id == borrower_id)
            .options(joinedload(Loan.installments))
            .order_by(Loan.disbursed_on.desc(), Loan.id.desc())
        ).unique()
    )


def loan_of_borrower(borrower_id: int, loan_id: int) -> Loan:
    """One loan, only if it belongs to this borrower; LoanNotFound otherwise (never 403)."""
    loan = db.session.scalar(
        select(Loan)
        .where(Loan.id == loan_id, Loan.borrower_id == borrower_id)
        .options(selectinload(Loan.installments), selectinload(Loan.payments))
    )
    if loan is None:
        raise LoanNotFound()
    return loan


@dataclass(frozen=True)
class BucketTotal:
    bucket: str
    loans: int
    outstanding_minor: int
    currency: str


def portfolio_by_bucket(today: date, buckets: list[tuple[str, int]]) -> list[BucketTotal]:
    """Active loans and their outstanding balance per delinquency bucket, in one SQL query.

    ``buckets`` are (name, lowest days past due) in ascending order, as the collection strategy
    in force defines them; loans with nothing past due count as "current".
    """
    outstanding = Installment.outstanding
    per_loan = (
        select(
            Installment.loan_id.label("loan_id"),
            func.min(Installment.due_date).label("oldest_unpaid_due"),
            func.sum(outstanding).label("outstanding"),
        )
        .where(outstanding > 0)
        .group_by(Installment.loan_id)
        .subquery()
    )
    # Bucket edges as dates, so the comparison is portable (no date arithmetic in SQL).
    whens = []
    for name, low in reversed(buckets):
        whens.append((per_loan.c.oldest_unpaid_due <= today - timedelta(days=low), name))
    bucket = case(*whens, else_="current").label("bucket")
    rows = db.session.execute(
        select(bucket, Loan.currency, func.count(), func.sum(per_loan.c.outstanding))
        .join(Loan, Loan.id == per_loan.c.loan_id)
        .where(Loan.status == LoanStatus.ACTIVE)
        .group_by(bucket, Loan.currency)
    ).all()
    found = {(row[0], row[1]): (row[2], int(row[3] or 0)) for row in rows}
    currencies = sorted({currency for _, currency in found}) or []
    return [
        BucketTotal(name, *found.get((name, currency), (0, 0)), currency)
        for currency in currencies
        for name in ["current", *(name for name, _low in buckets)]
    ]
