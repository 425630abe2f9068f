"""The charge policy per loan product, in versions, and the ledger of accrued late charges."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from portal.dbtypes import UTCDateTime, enum_column
from portal.extensions import Model
from portal.loans.models import LoanProduct
from portal.timeutil import utcnow


class LateFeeKind(enum.StrEnum):
    NONE = "none"
    FLAT = "flat"  # a fixed amount in the loan's minor units
    PERCENT = "percent"  # basis points of the missed installment's total due


class ChargeKind(enum.StrEnum):
    LATE_FEE = "late_fee"  # once per installment, after the grace days
    PENALTY = "penalty"  # penalty interest, per day on the overdue principal


class ChargePolicy(Model):
    """A version of one product's late-charge policy. Saving adds a version; none is edited.

    A product with no saved version uses ``services.DEFAULT_POLICY`` as its version 0.
    """

    __tablename__ = "charge_policy"
    __table_args__ = (
        UniqueConstraint("product", "version"),
        CheckConstraint(
            "grace_days >= 0 AND late_fee_flat_minor >= 0 AND late_fee_bps >= 0 "
            "AND penalty_bps_per_day >= 0 AND cap_annual_bps >= 0",
            name="values_non_negative",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product: Mapped[LoanProduct] = mapped_column(enum_column(LoanProduct, "charge_product"))
    version: Mapped[int] = mapped_column(Integer)
    grace_days: Mapped[int] = mapped_column(Integer)
    late_fee_kind: Mapped[LateFeeKind] = mapped_column(enum_column(LateFeeKind, "late_fee_kind"))
    late_fee_flat_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    late_fee_bps: Mapped[int] = mapped_column(Integer, default=0)
    penalty_bps_per_day: Mapped[int] = mapped_column(Integer, default=0)
    # The loan's total cost never exceeds principal x this annual rate x days / 365.
    cap_annual_bps: Mapped[int] = mapped_column(Integer)
    waterfall: Mapped[list] = mapped_column(JSON)  # component codes, in the order paid
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LateCharge(Model):
    """What one run accrued on one loan, of one kind: the trail behind
    ``installment.late_charge_due`` (the sum of these less late-charge adjustments).

    A late fee is a row per installment, once (a partial unique index: never a second fee on an
    installment). Penalty interest is ONE row per loan per run, on the loan's oldest overdue
    installment (where it is posted), covering ``days`` days of every overdue installment's
    principal. A fee the cap cut to zero is still a row (that fee is settled and never charged
    again); a penalty the cap cut to zero is a row with ``amount_minor`` 0 (the trail of what
    the cap refused) and posts nothing. Reruns and skipped days are the business of the run
    mark (``AccrualMark``), not of this table, which nothing reads back during the accrual.
    """

    __tablename__ = "late_charge"
    __table_args__ = (
        Index(
            "uq_late_charge_fee_once",
            "installment_id",
            unique=True,
            sqlite_where=text("kind = 'late_fee'"),
            postgresql_where=text("kind = 'late_fee'"),
        ),
        CheckConstraint(
            "amount_minor >= 0 AND amount_minor <= uncapped_minor", name="amount_range"
        ),
        CheckConstraint("days >= 1", name="days_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign keys and no other index: the accrual writes these rows from installment rows
    # in the same statement, and each check or index entry costs time a day at a hundred
    # thousand overdue loans (as for collection_position).
    installment_id: Mapped[int] = mapped_column(Integer)
    loan_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[ChargeKind] = mapped_column(enum_column(ChargeKind, "late_charge_kind"))
    accrued_on: Mapped[date] = mapped_column(Date)
    days: Mapped[int] = mapped_column(Integer)  # penalty days covered (1 for a late fee)
    uncapped_minor: Mapped[int] = mapped_column(BigInteger)  # what the policy asked for
    amount_minor: Mapped[int] = mapped_column(BigInteger)  # what the cap let through
    # The loan's cap headroom after this run's rows (all rows of a loan in a run carry the
    # same): exact when the run read the loan's cost, else a lower bound. The next run starts
    # from it (see accrual) instead of reading every installment of the loan again.
    room_after_minor: Mapped[int] = mapped_column(BigInteger)
    policy_version: Mapped[int] = mapped_column(Integer)


class AccrualMark(Model):
    """The last date a product's late charges were accrued through: the next run charges
    penalty interest for the days after it (skipped days included), and a run for that date or
    an earlier one adds nothing. One row per product, moved by each accrual that charged.

    Invariant the accrual relies on: only the accrual raises an installment's interest, fee or
    late charge due (waivers and rebates lower them). Code that ever raises one must clear
    ``first_id``/``last_id`` here, so that the next run reads every loan's cost again.
    """

    __tablename__ = "late_charge_mark"

    product: Mapped[LoanProduct] = mapped_column(
        enum_column(LoanProduct, "late_charge_mark_product"), primary_key=True
    )
    accrued_through: Mapped[date] = mapped_column(Date)
    # That run's rows (ids first_id..last_id; none if it wrote none) and the cap they were held
    # to: the next run reads the loans' headroom from them.
    first_id: Mapped[int | None] = mapped_column(Integer)
    last_id: Mapped[int | None] = mapped_column(Integer)
    cap_annual_bps: Mapped[int | None] = mapped_column(Integer)
