"""Payment attempts, processor events, refunds, disputes and the issues staff must look at.

A borrower's payment goes through an *attempt*: one processor PaymentIntent for one amount on one
loan. Only a verified processor event books it into the ledger (``loans.Payment``), and each
event is stored once, by its id, in the same transaction as what it did.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.dbtypes import UTCDateTime, enum_column
from portal.extensions import Model
from portal.loans.models import Component
from portal.timeutil import utcnow


class PayOption(enum.StrEnum):
    """What the borrower chose to pay on the pay page."""

    OVERDUE = "overdue"
    NEXT_INSTALLMENT = "next_installment"
    OTHER = "other"
    PAYOFF = "payoff"
    PLAN_DOWN_PAYMENT = "plan_down_payment"  # a repayment plan's (portal.plans): activates it


class Provider(enum.StrEnum):
    STRIPE = "stripe"
    SANDBOX = "sandbox"  # the embedded default: a local checkout page, no keys needed


class AttemptStatus(enum.StrEnum):
    OPEN = "open"  # waiting for the borrower to confirm (again, after a decline)
    PROCESSING = "processing"  # confirmed; waiting for the processor's verified verdict
    SUCCEEDED = "succeeded"  # booked in the ledger
    CANCELED = "canceled"
    NEEDS_REVIEW = "needs_review"  # the processor's amount or currency differs: never booked


# An attempt in one of these states can still take the borrower's money.
LIVE_STATUSES = (AttemptStatus.OPEN.value, AttemptStatus.PROCESSING.value)


class PaymentAttempt(Model):
    __tablename__ = "payment_attempt"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("length(currency) = 3", name="currency_code"),
        # At most one live attempt per borrower, loan and amount: a double click, a reload or a
        # second tab finds the first one instead of creating a second charge.
        Index(
            "uq_payment_attempt_live",
            "borrower_id",
            "loan_id",
            "amount_minor",
            unique=True,
            sqlite_where=text("status IN ('open', 'processing')"),
            postgresql_where=text("status IN ('open', 'processing')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    borrower_id: Mapped[int] = mapped_column(
        ForeignKey("borrower_profile.user_id", ondelete="RESTRICT"), index=True
    )
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id", ondelete="RESTRICT"), index=True)
    option: Mapped[PayOption] = mapped_column(enum_column(PayOption, "pay_option"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    provider: Mapped[Provider] = mapped_column(enum_column(Provider, "payment_provider"))
    # Sent with the create call: a retried create returns the same PaymentIntent.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    # The processor's PaymentIntent id ("pi_..."); set once the create call answered.
    intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    # Handed to Stripe.js to confirm the intent in the browser; never logged.
    client_secret: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[AttemptStatus] = mapped_column(
        enum_column(AttemptStatus, "payment_attempt_status"), default=AttemptStatus.OPEN
    )
    # The processor's last decline (code and its own message), shown to the borrower localized.
    failure_code: Mapped[str | None] = mapped_column(String(100))
    failure_message: Mapped[str | None] = mapped_column(String(500))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    loan = relationship("Loan")
    payment = relationship("Payment")


class ProcessorEvent(Model):
    """A verified processor event, stored once by its id with what processing it did."""

    __tablename__ = "processor_event"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)  # "evt_..."
    provider: Mapped[Provider] = mapped_column(enum_column(Provider, "payment_provider"))
    type: Mapped[str] = mapped_column(String(100))
    # The object the event is about (PaymentIntent, charge or dispute id).
    object_id: Mapped[str | None] = mapped_column(String(255), index=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime)  # the processor's event time
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(60))  # booked, ignored, flagged, ...
    payload: Mapped[str] = mapped_column(Text)


class RefundStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


class Refund(Model):
    __tablename__ = "refund"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("length(currency) = 3", name="currency_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(
        ForeignKey("payment.id", ondelete="RESTRICT"), index=True
    )
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(500))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    processor_refund_id: Mapped[str | None] = mapped_column(String(255), unique=True)  # "re_..."
    status: Mapped[RefundStatus] = mapped_column(
        enum_column(RefundStatus, "refund_status"), default=RefundStatus.PENDING
    )
    # Refunded money leaves the ledger once: the allocation is reversed when this is set.
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    payment = relationship("Payment")
    reversals: Mapped[list[RefundReversal]] = relationship(
        back_populates="refund", cascade="all, delete-orphan"
    )


class RefundReversal(Model):
    """What one refund took back out of the ledger: the payment's credit (no installment) or
    one component of one installment. The payment's own allocation rows stay as booked (the
    receipt shows them); what is left of an allocation is it less its reversals."""

    __tablename__ = "refund_reversal"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint(
            "(installment_id IS NULL) = (component IS NULL)", name="credit_or_component"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    refund_id: Mapped[int] = mapped_column(ForeignKey("refund.id", ondelete="CASCADE"), index=True)
    # None: the amount came out of the payment's unallocated credit.
    installment_id: Mapped[int | None] = mapped_column(
        ForeignKey("installment.id", ondelete="RESTRICT"), index=True
    )
    component: Mapped[Component | None] = mapped_column(
        enum_column(Component, "reversal_component")
    )
    amount_minor: Mapped[int] = mapped_column(BigInteger)

    refund: Mapped[Refund] = relationship(back_populates="reversals")
    installment = relationship("Installment")


class Dispute(Model):
    """A chargeback the borrower opened with their bank; the case is on hold while it is open."""

    __tablename__ = "dispute"

    id: Mapped[int] = mapped_column(primary_key=True)
    processor_dispute_id: Mapped[str] = mapped_column(String(255), unique=True)  # "dp_..."
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(40))  # the processor's: needs_response, won, lost...
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("contact_hold.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IssueKind(enum.StrEnum):
    AMOUNT_MISMATCH = "amount_mismatch"  # the processor took another amount or currency
    UNKNOWN_INTENT = "unknown_intent"  # a succeeded payment no attempt of ours matches
    PROCESSOR_UNREACHABLE = "processor_unreachable"  # a timeout or an error from the processor
    BOOKING_FAILED = "booking_failed"  # money was taken but the ledger refused it


class PaymentIssue(Model):
    """Something about money that a person must look at: shown to staff as an alert."""

    __tablename__ = "payment_issue"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[IssueKind] = mapped_column(enum_column(IssueKind, "payment_issue_kind"))
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("payment_attempt.id"), index=True)
    event_id: Mapped[str | None] = mapped_column(String(255))
    detail: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    resolution: Mapped[str | None] = mapped_column(String(500))
