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
    Integer,
    UniqueConstraint,
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
    """What one run accrued on one installment, of one kind: the trail behind
    ``installment.late_charge_due`` (the sum of these less late-charge adjustments).

    Unique per installment, kind and date, so rerunning a date adds nothing; a late fee has at
    most one row per installment (the accrual never adds a second). An amount the cap cut to
    zero is still a row: that day (or that fee) is settled and never accrues again.
    """

    __tablename__ = "late_charge"
    __table_args__ = (
        UniqueConstraint("installment_id", "kind", "accrued_on"),
        CheckConstraint(
            "amount_minor >= 0 AND amount_minor <= uncapped_minor", name="amount_range"
        ),
        CheckConstraint("days >= 1", name="days_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign keys: the accrual writes these rows from installment rows in the same
    # statement, and checking each against installment and loan again costs seconds a day at
    # a hundred thousand overdue installments (as for collection_position).
    installment_id: Mapped[int] = mapped_column(Integer)
    loan_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[ChargeKind] = mapped_column(enum_column(ChargeKind, "late_charge_kind"))
    accrued_on: Mapped[date] = mapped_column(Date)
    days: Mapped[int] = mapped_column(Integer)  # penalty days covered (1 for a late fee)
    uncapped_minor: Mapped[int] = mapped_column(BigInteger)  # what the policy asked for
    amount_minor: Mapped[int] = mapped_column(BigInteger)  # what the cap let through
    policy_version: Mapped[int] = mapped_column(Integer)
