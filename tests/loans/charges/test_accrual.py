"""The daily accrual of late charges: once per installment, per day, capped, idempotent."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from portal.extensions import db
from portal.loans.charges.accrual import accrue_late_charges
from portal.loans.charges.models import ChargeKind, LateCharge
from portal.loans.models import Installment, Loan, LoanStatus

GENEROUS_CAP = 100_000  # 1,000 % a year: the cap out of the way


def late_charges(loan_id: int) -> list[int]:
    return list(
        db.session.scalars(
            select(Installment.late_charge_due)
            .where(Installment.loan_id == loan_id)
            .order_by(Installment.sequence)
        )
    )


def accrue(as_of: date) -> int:
    added = accrue_late_charges(as_of)
    db.session.commit()
    return added


def test_default_policy_charges_nothing(app, plain_loan):
    """With no saved policy (version 0), nothing accrues."""
    loan = plain_loan([(date(2026, 2, 1), 100_000, 0, 0)])
    with app.app_context():
        assert accrue(date(2026, 3, 1)) == 0
        assert late_charges(loan) == [0]


def test_late_fee_once_after_grace(app, plain_loan, set_policy):
    """A flat late fee is charged the first day after the grace days, and never again."""
    set_policy(
        late_fee_kind="flat", late_fee_flat_minor=5_000, grace_days=3, cap_annual_bps=GENEROUS_CAP
    )
    loan = plain_loan([(date(2026, 2, 1), 100_000, 0, 0)])
    with app.app_context():
        assert accrue(date(2026, 2, 4)) == 0  # day 3: still in grace
        assert accrue(date(2026, 2, 5)) == 1
        assert late_charges(loan) == [5_000]
        accrue(date(2026, 2, 6))
        accrue(date(2026, 3, 6))
        assert late_charges(loan) == [5_000]


def test_percent_fee_of_installment_total(app, plain_loan, set_policy):
    """A percentage fee is basis points of principal + interest + fee due, rounded down."""
    set_policy(late_fee_kind="percent", late_fee_bps=500, cap_annual_bps=GENEROUS_CAP)
    loan = plain_loan([(date(2026, 2, 1), 10_001, 2_000, 999)])
    with app.app_context():
        accrue(date(2026, 2, 2))
        assert late_charges(loan) == [13_000 * 500 // 10_000]


def test_penalty_per_day_and_rerun_adds_nothing(app, plain_loan, set_policy):
    """Penalty interest accrues per day on overdue principal; rerunning a date adds nothing."""
    set_policy(penalty_bps_per_day=10, cap_annual_bps=GENEROUS_CAP)
    loan = plain_loan([(date(2026, 2, 1), 100_000, 0, 0)])
    with app.app_context():
        accrue(date(2026, 2, 2))
        assert late_charges(loan) == [100]
        assert accrue(date(2026, 2, 2)) == 0
        assert late_charges(loan) == [100]
        accrue(date(2026, 2, 3))
        assert late_charges(loan) == [200]


def test_skipped_days_accrue_when_the_run_resumes(app, plain_loan, set_policy):
    """Days without a run accrue at the next run: 2 Feb then 12 Feb is 11 days in all."""
    set_policy(penalty_bps_per_day=10, cap_annual_bps=GENEROUS_CAP)
    loan = plain_loan([(date(2026, 2, 1), 100_000, 0, 0)])
    with app.app_context():
        accrue(date(2026, 2, 2))
        accrue(date(2026, 2, 12))
        assert late_charges(loan) == [1_100]
        days = db.session.scalars(select(LateCharge.days).order_by(LateCharge.id)).all()
        assert days == [1, 10]
        accrue(date(2026, 2, 5))  # an earlier date run late accrues nothing twice
        assert late_charges(loan) == [1_100]


def test_nothing_on_paid_installments_or_inactive_loans(app, plain_loan, set_policy):
    """A paid installment and a loan that is not active accrue nothing."""
    set_policy(
        late_fee_kind="flat",
        late_fee_flat_minor=100,
        penalty_bps_per_day=10,
        cap_annual_bps=GENEROUS_CAP,
    )
    paid = plain_loan([(date(2026, 2, 1), 1_000, 0, 0), (date(2026, 3, 1), 1_000, 0, 0)])
    written_off = plain_loan([(date(2026, 2, 1), 1_000, 0, 0)], status=LoanStatus.WRITTEN_OFF)
    with app.app_context():
        first = db.session.scalars(
            select(Installment).where(Installment.loan_id == paid, Installment.sequence == 1)
        ).one()
        first.principal_paid = 1_000
        db.session.commit()
        accrue(date(2026, 2, 20))
        assert late_charges(paid) == [0, 0]
        assert late_charges(written_off) == [0]


def test_cap_shared_oldest_installment_first(app, plain_loan, set_policy):
    """Two overdue installments accruing in one run never take more than the loan's headroom;
    the oldest takes it first."""
    # Cap 3650 bps on 100,000 over 10 days: 100,000 x 0.365 x 10 / 365 = 1,000.
    set_policy(late_fee_kind="flat", late_fee_flat_minor=700, cap_annual_bps=3650)
    loan = plain_loan(
        [(date(2026, 1, 2), 50_000, 0, 0), (date(2026, 1, 3), 50_000, 0, 0)],
        disbursed_on=date(2026, 1, 1),
    )
    with app.app_context():
        accrue(date(2026, 1, 11))
        assert late_charges(loan) == [700, 300]
        capped = db.session.execute(
            select(LateCharge.uncapped_minor, LateCharge.amount_minor).order_by(LateCharge.id)
        ).all()
        assert sorted(capped) == [(700, 300), (700, 700)]


def test_scheduled_interest_counts_against_the_cap(app, plain_loan, set_policy):
    """Scheduled interest and fees use the headroom before any late charge."""
    set_policy(penalty_bps_per_day=100, cap_annual_bps=3650)
    loan = plain_loan([(date(2026, 1, 2), 100_000, 900, 50)], disbursed_on=date(2026, 1, 1))
    with app.app_context():
        accrue(date(2026, 1, 11))  # cap 1,000; cost 950 before; penalty asks 9 x 1,000
        assert late_charges(loan) == [50]
        total = db.session.scalar(select(func.sum(LateCharge.uncapped_minor)))
        assert total == 9_000
        loan_row = db.session.get(Loan, loan)
        assert loan_row is not None
        kinds = set(db.session.scalars(select(LateCharge.kind)))
        assert kinds == {ChargeKind.PENALTY}


def test_penalty_is_one_row_per_loan_on_its_oldest_installment(app, plain_loan, set_policy):
    """Two overdue installments: the day's penalty on both principals is one row, posted to the
    oldest; once the oldest is paid the next run posts to the next one, for the days since the
    last run only (the run mark), not again from that installment's due date."""
    set_policy(penalty_bps_per_day=10, cap_annual_bps=GENEROUS_CAP)
    loan = plain_loan([(date(2026, 2, 1), 100_000, 0, 0), (date(2026, 3, 1), 200_000, 0, 0)])
    with app.app_context():
        accrue(date(2026, 3, 2))  # 29 days of 100 + 1 day of 200
        assert late_charges(loan) == [3_100, 0]
        rows = db.session.execute(select(LateCharge.installment_id, LateCharge.days)).all()
        first, second = db.session.scalars(
            select(Installment.id).where(Installment.loan_id == loan).order_by(Installment.sequence)
        ).all()
        assert rows == [(first, 29)]
        db.session.get(Installment, first).principal_paid = 100_000
        db.session.commit()
        accrue(date(2026, 3, 5))  # 3 days of 200 on the second, now the oldest
        assert late_charges(loan) == [3_100, 600]


def test_a_penalty_the_cap_refuses_is_kept_but_posts_nothing(app, plain_loan, set_policy):
    """With no headroom, the penalty row records what was asked (amount 0) and no installment
    changes; the next day asks again (the cap may have room by then)."""
    set_policy(penalty_bps_per_day=10, cap_annual_bps=0)
    loan = plain_loan([(date(2026, 2, 1), 100_000, 0, 0)])
    with app.app_context():
        assert accrue(date(2026, 2, 3)) == 1
        assert late_charges(loan) == [0]
        capped = db.session.execute(select(LateCharge.uncapped_minor, LateCharge.amount_minor))
        assert capped.all() == [(200, 0)]
        assert accrue(date(2026, 2, 4)) == 1
        assert late_charges(loan) == [0]


def test_a_loan_made_active_again_is_charged_from_then_on(app, plain_loan, set_policy):
    """Days a loan was not active are not charged when it becomes active again."""
    set_policy(penalty_bps_per_day=10, cap_annual_bps=GENEROUS_CAP)
    active = plain_loan([(date(2026, 2, 1), 100_000, 0, 0)])
    paused = plain_loan([(date(2026, 2, 1), 100_000, 0, 0)], status=LoanStatus.WRITTEN_OFF)
    with app.app_context():
        accrue(date(2026, 2, 11))
        db.session.get(Loan, paused).status = LoanStatus.ACTIVE
        db.session.commit()
        accrue(date(2026, 2, 13))
        assert late_charges(active) == [1_200]
        assert late_charges(paused) == [200]


def test_headroom_freed_by_a_waiver_is_found_again(app, plain_loan, set_policy):
    """A run starts from the headroom the last run left (its rows' ``room_after_minor``) and
    reads the loan's cost again only when that is not enough: a loan at its cap whose late
    charge was waived gets exactly the freed headroom back, never more."""
    # Cap 365 bps on 100,000: 10 a day. The penalty asks 100 a day.
    set_policy(penalty_bps_per_day=10, cap_annual_bps=365)
    loan = plain_loan([(date(2026, 1, 2), 100_000, 0, 0)], disbursed_on=date(2026, 1, 1))
    with app.app_context():
        accrue(date(2026, 1, 11))  # cap 100: 9 days ask 900
        assert late_charges(loan) == [100]
        accrue(date(2026, 1, 12))  # cap 110
        assert late_charges(loan) == [110]
        rooms = db.session.scalars(select(LateCharge.room_after_minor).order_by(LateCharge.id))
        assert list(rooms) == [0, 0]
        installment = db.session.scalars(
            select(Installment).where(Installment.loan_id == loan)
        ).one()
        installment.late_charge_due = 30  # as a waiver of 80 leaves it
        db.session.commit()
        accrue(date(2026, 1, 13))  # cap 120: 90 of headroom, the penalty asks 100
        assert late_charges(loan) == [120]


def test_a_generous_cap_is_not_read_again_and_charges_the_same(app, plain_loan, set_policy):
    """Far from the cap, the next day's penalty is granted in full from the headroom the last
    run left, and that headroom shrinks by exactly what was granted plus the cap's growth."""
    set_policy(penalty_bps_per_day=10, cap_annual_bps=GENEROUS_CAP)
    loan = plain_loan([(date(2026, 1, 2), 100_000, 0, 0)], disbursed_on=date(2026, 1, 1))
    with app.app_context():
        accrue(date(2026, 1, 11))
        accrue(date(2026, 1, 12))
        assert late_charges(loan) == [1_000]
        rooms = list(
            db.session.scalars(select(LateCharge.room_after_minor).order_by(LateCharge.id))
        )
        # cap(10 days) = 100,000 x 10 x 10 / 365 = 27,397; cap(11 days) = 30,136.
        assert rooms == [27_397 - 900, 27_397 - 900 + (30_136 - 27_397) - 100]
