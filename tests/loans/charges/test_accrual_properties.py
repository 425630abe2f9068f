"""Property tests of the accrual: whatever the schedule, policy and run dates (month ends, leap
years, gaps, reruns), the cap holds, nothing is negative and a date accrues once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from portal.extensions import db
from portal.loans.charges.accrual import accrue_late_charges
from portal.loans.charges.models import AccrualMark, ChargePolicy, LateCharge, LateFeeKind
from portal.loans.models import Installment, Loan, LoanProduct, LoanStatus
from portal.loans.schedule import add_months

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
PROPERTY = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

policies = st.fixed_dictionaries(
    {
        "grace_days": st.integers(0, 10),
        "late_fee_kind": st.sampled_from(list(LateFeeKind)),
        "late_fee_flat_minor": st.integers(1, 50_000),
        "late_fee_bps": st.integers(1, 2_000),
        "penalty_bps_per_day": st.integers(0, 500),
        "cap_annual_bps": st.integers(0, 10_000),
    }
)
# Disbursed on a month end or 29 February now and then, so due dates clamp (add_months).
disbursements = st.one_of(
    st.dates(date(2023, 1, 1), date(2025, 12, 31)),
    st.sampled_from([date(2024, 1, 31), date(2024, 2, 29), date(2023, 12, 31), date(2024, 8, 31)]),
)
installments = st.lists(
    st.tuples(st.integers(1, 500_000), st.integers(0, 50_000), st.integers(0, 5_000)),
    min_size=1,
    max_size=6,
)
# Principal large enough that a cap of 1,000,000 % a year is never reached in these tests.
uncapped_installments = st.lists(
    st.tuples(st.integers(10_000, 500_000), st.integers(0, 50_000), st.integers(0, 5_000)),
    min_size=1,
    max_size=6,
)
run_gaps = st.lists(st.integers(0, 45), min_size=1, max_size=8)  # 0: a rerun of the same date


def _reset() -> None:
    for model in (LateCharge, AccrualMark, Installment, Loan, ChargePolicy):
        db.session.execute(delete(model))
    db.session.commit()


def _policy(values: dict) -> None:
    for product in LoanProduct:
        db.session.add(
            ChargePolicy(
                product=product,
                version=1,
                waterfall=["late_charge", "fee", "interest", "principal"],
                created_at=NOW,
                **values,
            )
        )


def _loan(borrower_id: int, disbursed_on: date, rows, product: LoanProduct) -> Loan:
    loan = Loan(
        borrower_id=borrower_id,
        reference=f"LN-P{disbursed_on:%Y%m%d}{len(rows)}{product.value[:2]}",
        product=product,
        principal_minor=sum(r[0] for r in rows),
        interest_rate_bps=0,
        fees_minor=0,
        currency="CNY",
        disbursed_on=disbursed_on,
        status=LoanStatus.ACTIVE,
    )
    for sequence, (principal, interest, fee) in enumerate(rows, start=1):
        loan.installments.append(
            Installment(
                sequence=sequence,
                due_date=add_months(disbursed_on, sequence),
                principal_due=principal,
                interest_due=interest,
                fee_due=fee,
            )
        )
    db.session.add(loan)
    return loan


def _cap(loan: Loan, cap_bps: int, as_of: date) -> int:
    return loan.principal_minor * cap_bps * (as_of - loan.disbursed_on).days // 3_650_000


@PROPERTY
@given(policy=policies, disbursed_on=disbursements, rows=installments, gaps=run_gaps)
def test_cap_holds_nothing_negative_and_reruns_add_nothing(
    app_ctx, borrower_id, policy, disbursed_on, rows, gaps
):
    """After every run: late charges never take the loan's cost past the cap (they are zero
    where scheduled interest and fees already reach it), no amount is negative, no accrued row
    exceeds what the policy asked, and running the same date again adds nothing."""
    _reset()
    _policy(policy)
    loan = _loan(borrower_id, disbursed_on, rows, LoanProduct.WALLET_CASH)
    db.session.commit()
    scheduled = sum(r[1] + r[2] for r in rows)
    as_of = add_months(disbursed_on, 1)
    for gap in gaps:
        as_of += timedelta(days=gap)
        accrue_late_charges(as_of)
        db.session.commit()
        db.session.expire_all()
        late = [i.late_charge_due for i in loan.installments]
        assert all(amount >= 0 for amount in late)
        assert sum(late) <= max(0, _cap(loan, policy["cap_annual_bps"], as_of) - scheduled)
        assert accrue_late_charges(as_of) == 0  # the same date again
        db.session.commit()
        db.session.expire_all()
        assert [i.late_charge_due for i in loan.installments] == late
    bad = db.session.scalar(
        select(func.count()).where(
            (LateCharge.amount_minor < 0) | (LateCharge.amount_minor > LateCharge.uncapped_minor)
        )
    )
    assert bad == 0
    ledger = db.session.scalar(select(func.coalesce(func.sum(LateCharge.amount_minor), 0)))
    assert ledger == sum(i.late_charge_due for i in loan.installments)


@PROPERTY
@given(
    policy=policies,
    disbursed_on=disbursements,
    rows=uncapped_installments,
    days=st.integers(1, 120),
    gaps=st.lists(st.integers(1, 20), min_size=1, max_size=6),
)
def test_skipped_days_accrue_the_same_as_daily_runs(
    app_ctx, borrower_id, policy, disbursed_on, rows, days, gaps
):
    """Without the cap in the way, runs with gaps charge exactly what daily runs charge."""
    _reset()
    _policy({**policy, "cap_annual_bps": 100_000_000})
    daily = _loan(borrower_id, disbursed_on, rows, LoanProduct.WALLET_CASH)
    skipping = _loan(borrower_id, disbursed_on, rows, LoanProduct.BUY_NOW_PAY_LATER)
    db.session.commit()
    start = add_months(disbursed_on, 1)
    end = start + timedelta(days=days)
    skip_dates, when = set(), start
    for gap in gaps:
        when += timedelta(days=gap)
        skip_dates.add(min(when, end))
    skip_dates.add(end)
    for offset in range(days + 1):
        day = start + timedelta(days=offset)
        if day not in skip_dates:
            # Only the daily loan's product runs on this day: the other waits for its date.
            db.session.execute(
                delete(ChargePolicy).where(ChargePolicy.product == LoanProduct.BUY_NOW_PAY_LATER)
            )
            accrue_late_charges(day)
            _policy_for(LoanProduct.BUY_NOW_PAY_LATER, policy)
        else:
            accrue_late_charges(day)
        db.session.commit()
    db.session.expire_all()
    assert [i.late_charge_due for i in daily.installments] == [
        i.late_charge_due for i in skipping.installments
    ]


def _policy_for(product: LoanProduct, values: dict) -> None:
    db.session.add(
        ChargePolicy(
            product=product,
            version=1,
            waterfall=["late_charge", "fee", "interest", "principal"],
            created_at=NOW,
            **{**values, "cap_annual_bps": 100_000_000},
        )
    )
    db.session.flush()
