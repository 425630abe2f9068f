"""The daily run accrues late charges before positions: cases and positions carry them, a
rerun adds nothing, and a paid loan stops accruing."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from portal.auth.models import Role
from portal.collections.models import CollectionCase, CollectionPosition
from portal.collections.run import run_collections
from portal.extensions import db
from portal.loans.allocation import DEFAULT_WATERFALL
from portal.loans.charges.models import ChargePolicy, LateCharge, LateFeeKind
from portal.loans.models import Installment, LoanProduct

AS_OF = date(2026, 3, 1)  # the loan's first installment (15 Feb) is 14 days late


def _now(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)


def _charge_policy() -> None:
    db.session.add(
        ChargePolicy(
            product=LoanProduct.WALLET_CASH,
            version=1,
            grace_days=3,
            late_fee_kind=LateFeeKind.FLAT,
            late_fee_flat_minor=1_000,
            late_fee_bps=0,
            penalty_bps_per_day=10,
            cap_annual_bps=100_000,
            waterfall=[c.value for c in DEFAULT_WATERFALL],
            created_at=_now(AS_OF),
        )
    )
    db.session.commit()


def test_run_accrues_and_cases_show_late_charges(app, make_user, make_loan):
    """Fee 10.00 once, penalty 0.1 % a day on 500.00 overdue principal for the 11 days after
    the grace period: 10.00 + 11 x 0.50; the case shows it; rerunning the date adds nothing."""
    borrower = make_user(Role.BORROWER)
    loan_id = make_loan(borrower.id, disbursed_on=date(2026, 1, 15), principal_minor=300_000)
    with app.app_context():
        _charge_policy()
        report = run_collections(AS_OF, now=_now(AS_OF), contacts=False)
        assert report.late_charges_accrued == 2
        expected = 1_000 + 11 * 50
        case = db.session.scalars(
            select(CollectionCase).where(CollectionCase.loan_id == loan_id)
        ).one()
        assert case.overdue_late_charge == expected
        assert db.session.get(CollectionPosition, loan_id).overdue_late_charge == expected
        again = run_collections(AS_OF, now=_now(AS_OF), contacts=False)
        assert again.late_charges_accrued == 0
        db.session.expire_all()
        first = db.session.scalars(
            select(Installment).where(Installment.loan_id == loan_id, Installment.sequence == 1)
        ).one()
        assert first.late_charge_due == expected
        assert db.session.scalar(select(func.count()).select_from(LateCharge)) == 2


def test_default_policy_leaves_the_run_as_it_was(app, make_user, make_loan):
    """No saved policy: the run accrues nothing and cases carry no late charge."""
    borrower = make_user(Role.BORROWER)
    loan_id = make_loan(borrower.id, disbursed_on=date(2026, 1, 15))
    with app.app_context():
        report = run_collections(AS_OF, now=_now(AS_OF), contacts=False)
        assert report.late_charges_accrued == 0
        case = db.session.scalars(
            select(CollectionCase).where(CollectionCase.loan_id == loan_id)
        ).one()
        assert case.overdue_late_charge == 0
