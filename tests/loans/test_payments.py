from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.loans.models import Component, Installment, Loan, LoanStatus, PaymentMethod
from portal.loans.services import (
    CurrencyMismatch,
    LoanNotFound,
    PaymentExceedsBalance,
    PaymentRejected,
    record_payment,
)

RECEIVED = datetime(2026, 11, 1, 4, 0, tzinfo=UTC)


@pytest.fixture
def loan_id(app_ctx, make_user, make_loan):
    borrower = make_user()
    # 3 x 1,000.00 principal, 24 % a year (20.00 / 13.33... interest), 30.00 fee on the first.
    return make_loan(
        borrower.id,
        principal_minor=300_000,
        rate_bps=2400,
        fee_minor=3_000,
        disbursed_on=date(2026, 8, 1),
        terms=3,
    )


def _pay(loan_id, amount, **kwargs):
    return record_payment(
        loan_id=loan_id,
        amount_minor=amount,
        currency=kwargs.pop("currency", "CNY"),
        method=PaymentMethod.ALIPAY,
        received_at=RECEIVED,
        **kwargs,
    )


def _installments(loan_id):
    return db.session.scalars(
        select(Installment)
        .where(Installment.loan_id == loan_id)
        .order_by(Installment.sequence)
        .execution_options(populate_existing=True)
    ).all()


def test_payment_pays_fees_then_interest_then_principal(loan_id):
    """The waterfall: the first installment's fee, then its interest, then its principal."""
    payment = _pay(loan_id, 3_000 + 6_000 + 500)
    first = _installments(loan_id)[0]
    assert (first.fee_paid, first.interest_paid, first.principal_paid) == (3_000, 6_000, 500)
    assert [(a.component, a.amount_minor) for a in payment.allocations] == [
        (Component.FEE, 3_000),
        (Component.INTEREST, 6_000),
        (Component.PRINCIPAL, 500),
    ]


def test_payment_spills_over_to_the_next_installment_oldest_first(loan_id):
    """Money beyond the oldest installment goes to the next one, again fees first."""
    first_total = 3_000 + 6_000 + 100_000
    _pay(loan_id, first_total + 1_000)
    first, second, third = _installments(loan_id)
    assert first.outstanding == 0
    assert (second.interest_paid, second.principal_paid) == (1_000, 0)
    assert third.total_paid == 0


def test_paying_everything_marks_the_loan_paid_off(loan_id):
    """When the last cent is paid the loan is paid off and takes no more payments."""
    total = sum(i.outstanding for i in _installments(loan_id))
    _pay(loan_id, total)
    assert db.session.get(Loan, loan_id).status is LoanStatus.PAID_OFF
    with pytest.raises(PaymentRejected):
        _pay(loan_id, 1)


def test_overpayment_is_refused_and_changes_nothing(loan_id):
    """A payment above the outstanding balance is refused; nothing is booked."""
    total = sum(i.outstanding for i in _installments(loan_id))
    with pytest.raises(PaymentExceedsBalance):
        _pay(loan_id, total + 1)
    assert all(i.total_paid == 0 for i in _installments(loan_id))


def test_wrong_currency_and_unknown_loan_are_refused(loan_id):
    """A USD payment to a CNY loan, or to a loan that does not exist, is refused."""
    with pytest.raises(CurrencyMismatch):
        _pay(loan_id, 100, currency="USD")
    with pytest.raises(LoanNotFound):
        _pay(loan_id + 1000, 100)
    with pytest.raises(PaymentRejected):
        _pay(loan_id, 0)


def test_same_processor_payment_books_once(loan_id):
    """A payment delivered twice (same external reference) is booked once."""
    first = _pay(loan_id, 5_000, external_reference="pi_123")
    again = _pay(loan_id, 5_000, external_reference="pi_123")
    db.session.commit()
    assert again.id == first.id
    assert _installments(loan_id)[0].total_paid == 5_000


def test_database_refuses_paying_more_than_due(loan_id):
    """The CHECK constraint holds even if code bypasses the service."""
    installment_id = _installments(loan_id)[0].id
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(
            text("UPDATE installment SET fee_paid = fee_due + 1 WHERE id = :id"),
            {"id": installment_id},
        )
    db.session.rollback()


def test_database_refuses_negative_and_zero_amounts(loan_id):
    """Payments must be positive, principal too: enforced by the database."""
    with pytest.raises(IntegrityError):
        db.session.execute(
            text(
                "INSERT INTO payment (loan_id, amount_minor, currency, method, received_at, "
                "created_at) VALUES (:loan, -5, 'CNY', 'card', :at, :at)"
            ),
            {"loan": loan_id, "at": RECEIVED},
        )
    db.session.rollback()
