"""A payment follows its product's policy waterfall unless the caller names one."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from portal.extensions import db
from portal.loans.allocation import DEFAULT_WATERFALL
from portal.loans.models import Installment, Loan, LoanProduct, PaymentMethod
from portal.loans.services import preview_allocation, record_payment

RECEIVED = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
PRINCIPAL_FIRST = ["principal", "interest", "fee", "late_charge"]


def _loan_with_charges(app, plain_loan) -> int:
    loan_id = plain_loan([(date(2026, 2, 1), 10_000, 1_000, 500)])
    with app.app_context():
        db.session.execute(
            Installment.__table__.update()
            .where(Installment.loan_id == loan_id)
            .values(late_charge_due=700)
        )
        db.session.commit()
    return loan_id


def _paid(app, loan_id: int) -> tuple[int, int, int, int]:
    with app.app_context():
        i = db.session.scalars(select(Installment).where(Installment.loan_id == loan_id)).one()
        return (i.late_charge_paid, i.fee_paid, i.interest_paid, i.principal_paid)


def test_default_policy_pays_late_charges_first(app, plain_loan):
    """Version 0: late charges, fees, interest, then principal."""
    loan_id = _loan_with_charges(app, plain_loan)
    with app.app_context():
        record_payment(
            loan_id=loan_id,
            amount_minor=1_000,
            currency="CNY",
            method=PaymentMethod.CARD,
            received_at=RECEIVED,
        )
        db.session.commit()
    assert _paid(app, loan_id) == (700, 300, 0, 0)


def test_product_policy_waterfall_is_used_for_preview_and_booking(app, plain_loan, set_policy):
    """A product whose policy pays principal first: the preview and the booking agree."""
    set_policy(LoanProduct.WALLET_CASH, waterfall=PRINCIPAL_FIRST)
    set_policy(LoanProduct.BUY_NOW_PAY_LATER)  # another product keeps its own order
    loan_id = _loan_with_charges(app, plain_loan)
    with app.app_context():
        loan = db.session.get(Loan, loan_id)
        assert loan is not None
        preview = preview_allocation(loan, 10_500)
        assert [(p.component.value, p.amount_minor) for p in preview.parts] == [
            ("principal", 10_000),
            ("interest", 500),
        ]
        record_payment(
            loan_id=loan_id,
            amount_minor=10_500,
            currency="CNY",
            method=PaymentMethod.CARD,
            received_at=RECEIVED,
        )
        db.session.commit()
    assert _paid(app, loan_id) == (0, 0, 500, 10_000)


def test_an_explicit_waterfall_still_wins(app, plain_loan, set_policy):
    """``waterfall=`` given by the caller overrides the policy's."""
    set_policy(LoanProduct.WALLET_CASH, waterfall=PRINCIPAL_FIRST)
    loan_id = _loan_with_charges(app, plain_loan)
    with app.app_context():
        record_payment(
            loan_id=loan_id,
            amount_minor=1_000,
            currency="CNY",
            method=PaymentMethod.CARD,
            received_at=RECEIVED,
            waterfall=DEFAULT_WATERFALL,
        )
        db.session.commit()
    assert _paid(app, loan_id) == (700, 300, 0, 0)
