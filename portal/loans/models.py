"""Loans, their installment schedules, and the ledger of payments and allocations.

All amounts are integer minor units in the loan's currency. The database enforces what must
never be false: amounts are non-negative, nothing is paid beyond what is due, and each payment
is allocated at most once per installment component.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.dbtypes import UTCDateTime, enum_column
from portal.extensions import Model
from portal.timeutil import utcnow


class LoanStatus(enum.StrEnum):
    ACTIVE = "active"
    PAID_OFF = "paid_off"
    WRITTEN_OFF = "written_off"


class LoanProduct(enum.StrEnum):
    WALLET_CASH = "wallet_cash"  # a cash advance to the wallet, repaid in installments
    BUY_NOW_PAY_LATER = "bnpl"  # a purchase paid in installments


class Component(enum.StrEnum):
    """The parts of an installment. The order a payment pays them is the product's waterfall
    (``portal.loans.allocation.DEFAULT_WATERFALL`` unless its charge policy says otherwise)."""

    LATE_CHARGE = "late_charge"  # late fees and penalty interest, accrued by the daily run
    FEE = "fee"
    INTEREST = "interest"
    PRINCIPAL = "principal"


class PaymentMethod(enum.StrEnum):
    CARD = "card"
    ALIPAY = "alipay"
    WECHAT_PAY = "wechat_pay"
    BANK_TRANSFER = "bank_transfer"


class Loan(Model):
    __tablename__ = "loan"
    __table_args__ = (
        CheckConstraint("principal_minor > 0", name="principal_positive"),
        CheckConstraint("fees_minor >= 0", name="fees_non_negative"),
        CheckConstraint("interest_rate_bps >= 0", name="rate_non_negative"),
        CheckConstraint("length(currency) = 3", name="currency_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    borrower_id: Mapped[int] = mapped_column(
        ForeignKey("borrower_profile.user_id", ondelete="RESTRICT"), index=True
    )
    product: Mapped[LoanProduct] = mapped_column(enum_column(LoanProduct, "loan_product"))
    principal_minor: Mapped[int] = mapped_column(BigInteger)
    # Annual rate in basis points (1850 = 18.50 %): a rate is not money, but no floats either.
    interest_rate_bps: Mapped[int] = mapped_column(Integer)
    fees_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    disbursed_on: Mapped[date] = mapped_column(Date)
    status: Mapped[LoanStatus] = mapped_column(
        enum_column(LoanStatus, "loan_status"), default=LoanStatus.ACTIVE, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    borrower = relationship("BorrowerProfile")
    installments: Mapped[list[Installment]] = relationship(
        back_populates="loan", order_by="Installment.sequence", cascade="all, delete-orphan"
    )
    payments: Mapped[list[Payment]] = relationship(
        back_populates="loan", order_by="Payment.received_at"
    )


class Installment(Model):
    __tablename__ = "installment"
    __table_args__ = (
        UniqueConstraint("loan_id", "sequence"),
        CheckConstraint("sequence >= 1", name="sequence_positive"),
        CheckConstraint(
            "principal_due >= 0 AND interest_due >= 0 AND fee_due >= 0", name="due_non_negative"
        ),
        CheckConstraint(
            "principal_paid >= 0 AND principal_paid <= principal_due", name="principal_paid_range"
        ),
        CheckConstraint(
            "interest_paid >= 0 AND interest_paid <= interest_due", name="interest_paid_range"
        ),
        CheckConstraint("fee_paid >= 0 AND fee_paid <= fee_due", name="fee_paid_range"),
        CheckConstraint(
            "late_charge_paid >= 0 AND late_charge_paid <= late_charge_due",
            name="late_charge_paid_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id", ondelete="CASCADE"))
    sequence: Mapped[int] = mapped_column(Integer)
    # A calendar date in the borrower's time zone: due until the end of that local day.
    due_date: Mapped[date] = mapped_column(Date, index=True)
    principal_due: Mapped[int] = mapped_column(BigInteger)
    interest_due: Mapped[int] = mapped_column(BigInteger, default=0)
    fee_due: Mapped[int] = mapped_column(BigInteger, default=0)
    principal_paid: Mapped[int] = mapped_column(BigInteger, default=0)
    interest_paid: Mapped[int] = mapped_column(BigInteger, default=0)
    fee_paid: Mapped[int] = mapped_column(BigInteger, default=0)
    # Late fees and penalty interest accrued on this installment once it is past due (the
    # daily run; capped by the product's charge policy), less what staff waived.
    late_charge_due: Mapped[int] = mapped_column(BigInteger, default=0)
    late_charge_paid: Mapped[int] = mapped_column(BigInteger, default=0)
    # The day the accrual charged this installment's late fee (portal.loans.charges.accrual):
    # a fee is charged once. Penalty interest needs no mark here: the run's own mark
    # (charges.models.AccrualMark) says which days are charged.
    late_fee_on: Mapped[date | None] = mapped_column(Date)
    # Repayment plans (portal.plans): an installment of a plan, or an original whose unpaid
    # amounts a plan took over (its dues lowered to what was paid; plan_reschedule says what).
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("repayment_plan.id"), index=True)
    rescheduled_into_plan_id: Mapped[int | None] = mapped_column(ForeignKey("repayment_plan.id"))

    loan: Mapped[Loan] = relationship(back_populates="installments")

    @hybrid_property
    def total_due(self) -> int:
        return self.principal_due + self.interest_due + self.fee_due + self.late_charge_due

    @hybrid_property
    def total_paid(self) -> int:
        return self.principal_paid + self.interest_paid + self.fee_paid + self.late_charge_paid

    @hybrid_property
    def outstanding(self) -> int:
        """What is still owed on this installment; in a query, the same sum in SQL."""
        return self.total_due - self.total_paid

    def outstanding_of(self, component: Component) -> int:
        due = getattr(self, f"{component.value}_due")
        paid = getattr(self, f"{component.value}_paid")
        return due - paid


class Payment(Model):
    __tablename__ = "payment"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("length(currency) = 3", name="currency_code"),
        CheckConstraint(
            "unallocated_minor >= 0 AND unallocated_minor <= amount_minor",
            name="unallocated_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id", ondelete="RESTRICT"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[PaymentMethod] = mapped_column(enum_column(PaymentMethod, "payment_method"))
    # The payment processor's id (Stripe PaymentIntent, bank reference): a payment books once.
    external_reference: Mapped[str | None] = mapped_column(String(128), unique=True)
    # What the installments could not take (the loan was already paid): the borrower's credit,
    # used by the next charge or refunded by an admin's decision.
    unallocated_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    loan: Mapped[Loan] = relationship(back_populates="payments")
    allocations: Mapped[list[PaymentAllocation]] = relationship(
        back_populates="payment", cascade="all, delete-orphan"
    )


class PaymentAllocation(Model):
    """How much of one payment went to one component of one installment."""

    __tablename__ = "payment_allocation"
    __table_args__ = (
        UniqueConstraint("payment_id", "installment_id", "component"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id", ondelete="CASCADE"))
    installment_id: Mapped[int] = mapped_column(
        ForeignKey("installment.id", ondelete="RESTRICT"), index=True
    )
    component: Mapped[Component] = mapped_column(enum_column(Component, "allocation_component"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)

    payment: Mapped[Payment] = relationship(back_populates="allocations")
    installment: Mapped[Installment] = relationship()


class AdjustmentKind(enum.StrEnum):
    WAIVER = "waiver"  # staff forgave part of a charge, with a reason
    PAYOFF_REBATE = "payoff_rebate"  # interest not yet earned, dropped when the loan is paid off


class LedgerAdjustment(Model):
    """A reduction of what an installment owes, other than a payment: who, why and how much.

    The installment's ``<component>_due`` is lowered by ``amount_minor`` in the same
    transaction; this row (and its audit event) is the trail.
    """

    __tablename__ = "ledger_adjustment"
    __table_args__ = (CheckConstraint("amount_minor > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id", ondelete="RESTRICT"), index=True)
    installment_id: Mapped[int] = mapped_column(
        ForeignKey("installment.id", ondelete="RESTRICT"), index=True
    )
    component: Mapped[Component] = mapped_column(enum_column(Component, "adjustment_component"))
    kind: Mapped[AdjustmentKind] = mapped_column(enum_column(AdjustmentKind, "adjustment_kind"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(500))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    installment: Mapped[Installment] = relationship()
