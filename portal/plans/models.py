"""The plan policy, in versions (one in force, the newest; none ever edited), and the plans."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from portal.dbtypes import UTCDateTime, enum_column
from portal.extensions import Model
from portal.loans.models import Component
from portal.plans.schedule import Frequency
from portal.timeutil import utcnow


class PlanPolicyVersion(Model):
    """One saved version of the plan policy. ``settings`` holds ``PlanPolicy.settings()``
    (validated by ``policy.validate_settings`` before it is stored). With no saved version,
    ``policy.DEFAULT_SETTINGS`` is version 0."""

    __tablename__ = "plan_policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    settings: Mapped[dict] = mapped_column(JSON)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PlanStatus(enum.StrEnum):
    PROPOSED = "proposed"  # a collector proposed it; only the borrower's consent goes on
    AWAITING_APPROVAL = "awaiting_approval"  # consented, above the policy's limits: an admin
    PENDING = "pending"  # consented (and approved): waiting for the down payment
    ACTIVE = "active"  # the loan's remaining balance is in the plan's installments
    COMPLETED = "completed"  # every plan installment paid
    BROKEN = "broken"  # a plan installment unpaid past the grace days
    CANCELED = "canceled"  # replaced, declined by an admin, or never paid


# A loan has at most one plan in these states (uq_repayment_plan_live_loan).
LIVE_PLAN_STATUSES = (
    PlanStatus.PROPOSED.value,
    PlanStatus.AWAITING_APPROVAL.value,
    PlanStatus.PENDING.value,
    PlanStatus.ACTIVE.value,
)
_LIVE_SQL = "status IN ('proposed', 'awaiting_approval', 'pending', 'active')"


class RepaymentPlan(Model):
    """One plan for one loan: the offer the borrower consented to, and how it went.

    Until it is active, ``schedule`` holds the consented installments ([{"due_date": ISO date,
    "amount_minor": int}]). On activation the loan's unpaid installments are rescheduled into
    new installment rows with ``plan_id`` set (``PlanReschedule`` keeps what moved), and those
    rows are the plan from then on.
    """

    __tablename__ = "repayment_plan"
    __table_args__ = (
        Index(
            "uq_repayment_plan_live_loan",
            "loan_id",
            unique=True,
            sqlite_where=text(_LIVE_SQL),
            postgresql_where=text(_LIVE_SQL),
        ),
        CheckConstraint(
            "balance_minor >= 0 AND down_payment_minor >= 0 AND financed_minor >= 0"
            " AND waived_late_charge_minor >= 0 AND waived_interest_minor >= 0",
            name="amounts_non_negative",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id", ondelete="RESTRICT"), index=True)
    borrower_id: Mapped[int] = mapped_column(
        ForeignKey("borrower_profile.user_id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[PlanStatus] = mapped_column(enum_column(PlanStatus, "plan_status"))
    policy_version: Mapped[int] = mapped_column(Integer)
    installment_count: Mapped[int] = mapped_column(Integer)
    frequency: Mapped[Frequency] = mapped_column(enum_column(Frequency, "plan_frequency"))
    currency: Mapped[str] = mapped_column(String(3))
    # The offer as priced: the restructured balance, the waiver by component, the down payment
    # and what the installments finance (balance = waivers + down payment + financed).
    balance_minor: Mapped[int] = mapped_column(BigInteger)
    waived_late_charge_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    waived_interest_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    down_payment_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    financed_minor: Mapped[int] = mapped_column(BigInteger)
    start_on: Mapped[date] = mapped_column(Date)  # the borrower's local date it was priced on
    schedule: Mapped[list] = mapped_column(JSON)
    needs_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    # Consent: the borrower's own, to this version of the plan terms (portal/plans/terms.py).
    terms_version: Mapped[str | None] = mapped_column(String(20))
    consented_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    consented_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_ip: Mapped[str | None] = mapped_column(String(45))
    consent_user_agent: Mapped[str | None] = mapped_column(String(300))
    proposed_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))  # approval
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    down_payment_attempt_id: Mapped[int | None] = mapped_column(
        ForeignKey("payment_attempt.id"), index=True
    )
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_on: Mapped[date | None] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def waiver_minor(self) -> int:
        return self.waived_late_charge_minor + self.waived_interest_minor


class PlanReschedule(Model):
    """What one plan's activation moved out of one component of one original installment.

    The original's ``<component>_due`` is lowered by ``amount_minor`` (to what was paid on
    it) and the amount is owed on the plan's installments instead: the originals stay, marked
    ``rescheduled_into_plan_id``, with this trail of what left them.
    """

    __tablename__ = "plan_reschedule"
    __table_args__ = (
        UniqueConstraint("plan_id", "installment_id", "component"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("repayment_plan.id", ondelete="CASCADE"))
    installment_id: Mapped[int] = mapped_column(
        ForeignKey("installment.id", ondelete="RESTRICT"), index=True
    )
    component: Mapped[Component] = mapped_column(enum_column(Component, "reschedule_component"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
