"""Helpers of the late-charge tests: a policy saved for a product, and a loan with a schedule
given installment by installment (amounts chosen by the test, not by the schedule builder)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from portal.auth.models import Role
from portal.extensions import db
from portal.loans.charges.services import DEFAULT_POLICY, save_policy_version
from portal.loans.models import Installment, Loan, LoanProduct, LoanStatus

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


@pytest.fixture
def set_policy(app, make_user):
    """Save a policy version for a product (the default's values, overridden); returns it."""
    admin = make_user(Role.ADMIN)

    def factory(product: LoanProduct = LoanProduct.WALLET_CASH, **changes):
        with app.app_context():
            policy = save_policy_version(
                product,
                {**DEFAULT_POLICY, **changes},
                expected_version=None,
                actor_id=admin.id,
                now=NOW,
                ip_address=None,
            )
            db.session.commit()
            return policy

    return factory


@pytest.fixture
def plain_loan(app, make_user):
    """A loan with the given installments ``(due_date, principal, interest, fee)``; its id."""
    counter = iter(range(1, 100_000))

    def factory(
        installments: list[tuple[date, int, int, int]],
        *,
        principal_minor: int | None = None,
        disbursed_on: date = date(2026, 1, 1),
        product: LoanProduct = LoanProduct.WALLET_CASH,
        status: LoanStatus = LoanStatus.ACTIVE,
        borrower_id: int | None = None,
    ) -> int:
        if borrower_id is None:
            borrower_id = make_user(Role.BORROWER).id
        with app.app_context():
            loan = Loan(
                borrower_id=borrower_id,
                reference=f"LN-C{next(counter):05d}",
                product=product,
                principal_minor=principal_minor or sum(row[1] for row in installments),
                interest_rate_bps=0,
                fees_minor=0,
                currency="CNY",
                disbursed_on=disbursed_on,
                status=status,
            )
            for sequence, (due, principal, interest, fee) in enumerate(installments, start=1):
                loan.installments.append(
                    Installment(
                        sequence=sequence,
                        due_date=due,
                        principal_due=principal,
                        interest_due=interest,
                        fee_due=fee,
                    )
                )
            db.session.add(loan)
            db.session.commit()
            return loan.id

    return factory


@pytest.fixture
def borrower_id(make_user) -> int:
    """A borrower for loans built inside the test."""
    return make_user(Role.BORROWER).id
