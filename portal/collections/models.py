"""Collections: strategies, the daily run, cases and everything collectors record on them."""

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
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    case,
    func,
    select,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from portal.dbtypes import UTCDateTime, enum_column
from portal.extensions import Model
from portal.sqlutil import days_between
from portal.timeutil import utcnow


class CaseStatus(enum.StrEnum):
    OPEN = "open"
    CURED = "cured"  # paid up: no installment past due any more
    CLOSED = "closed"  # paid off, written off, or closed by an admin


class LegalStatus(enum.StrEnum):
    NONE = "none"
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"


class PromiseStatus(enum.StrEnum):
    PENDING = "pending"
    KEPT = "kept"
    BROKEN = "broken"


class ArrearsReason(enum.StrEnum):
    ILLNESS = "illness"
    JOB_LOSS = "job_loss"
    INCOME_DROP = "income_drop"
    BUSINESS_FAILURE = "business_failure"
    FAMILY_EMERGENCY = "family_emergency"
    OVER_INDEBTED = "over_indebted"
    DISPUTE = "dispute"
    FORGOT = "forgot"
    OTHER = "other"


class Willingness(enum.StrEnum):
    WILLING = "willing"
    PARTLY = "partly"
    UNWILLING = "unwilling"
    UNKNOWN = "unknown"


class CollectionStrategy(Model):
    """A version of the collection strategy: grace period, buckets and the four stages.

    The newest version is in force; cases remember the version that moved them.
    """

    __tablename__ = "collection_strategy"
    __table_args__ = (UniqueConstraint("version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    settings: Mapped[dict] = mapped_column(JSON)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CollectionRun(Model):
    """One daily run per as-of date; the row is the run's lock and its report."""

    __tablename__ = "collection_run"
    __table_args__ = (UniqueConstraint("as_of"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12))  # running / finished
    strategy_version: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    report: Mapped[dict] = mapped_column(JSON, default=dict)


class CollectionCase(Model):
    """A loan in collections, from the day it goes overdue until it is cured or closed."""

    __tablename__ = "collection_case"
    __table_args__ = (
        # At most one open case per loan, enforced by the database.
        Index(
            "uq_collection_case_open_loan",
            "loan_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_collection_case_queue", "status", "assigned_to"),
        CheckConstraint("stage BETWEEN 1 AND 4", name="stage_range"),
        CheckConstraint(
            "overdue_principal >= 0 AND overdue_interest >= 0 AND overdue_fee >= 0",
            name="overdue_non_negative",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id", ondelete="RESTRICT"))
    borrower_id: Mapped[int] = mapped_column(
        ForeignKey("borrower_profile.user_id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[CaseStatus] = mapped_column(enum_column(CaseStatus, "case_status"))
    close_reason: Mapped[str | None] = mapped_column(String(40))
    opened_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    stage: Mapped[int] = mapped_column(Integer, default=1)
    stage_entered_on: Mapped[date] = mapped_column(Date)
    bucket: Mapped[str] = mapped_column(String(20))
    oldest_unpaid_due: Mapped[date | None] = mapped_column(Date)
    overdue_principal: Mapped[int] = mapped_column(BigInteger, default=0)
    overdue_interest: Mapped[int] = mapped_column(BigInteger, default=0)
    overdue_fee: Mapped[int] = mapped_column(BigInteger, default=0)
    # Late fees and penalty interest overdue (portal.loans.charges): shown apart, in the total.
    overdue_late_charge: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    currency: Mapped[str] = mapped_column(String(3))
    # Days past due as of the latest run, derived rather than stored: stored, it would change
    # for every open case every day, and the daily run would rewrite them all just to add one.
    # The run refreshes oldest_unpaid_due, bucket and amounts only when they change.
    days_past_due: Mapped[int] = column_property(
        case(
            (
                status == CaseStatus.OPEN,
                func.coalesce(
                    days_between(
                        select(func.max(CollectionRun.as_of)).scalar_subquery(), oldest_unpaid_due
                    ),
                    0,
                ),
            ),
            else_=0,
        )
    )
    strategy_version: Mapped[int] = mapped_column(Integer)
    assigned_to: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    legal_status: Mapped[LegalStatus] = mapped_column(
        enum_column(LegalStatus, "legal_status"), default=LegalStatus.NONE
    )
    last_notice_on: Mapped[date | None] = mapped_column(Date)
    callback_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    transitions: Mapped[list[CaseTransition]] = relationship(
        back_populates="case", order_by="CaseTransition.id"
    )

    @hybrid_property
    def overdue_total(self) -> int:
        """Everything overdue on the case's loan; in a query, the same sum in SQL."""
        return (
            self.overdue_principal
            + self.overdue_interest
            + self.overdue_fee
            + self.overdue_late_charge
        )


class CollectionPosition(Model):
    """Each overdue loan's position at the latest run: the run's working set, rebuilt each run.

    UNLOGGED on PostgreSQL (migration 0005): only the run reads it, and it rebuilds it.
    """

    __tablename__ = "collection_position"

    # No foreign key, and nothing copied from the loan (borrower, currency): the table is
    # rebuilt from installments every run, and checking or joining each row against loan again
    # costs seconds at a million loans. The few rows that need them look them up.
    loan_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    oldest_unpaid_due: Mapped[date] = mapped_column(Date)
    days_past_due: Mapped[int] = mapped_column(Integer)
    bucket: Mapped[str] = mapped_column(String(20))
    dpd_stage: Mapped[int] = mapped_column(Integer)
    overdue_principal: Mapped[int] = mapped_column(BigInteger)
    overdue_interest: Mapped[int] = mapped_column(BigInteger)
    overdue_fee: Mapped[int] = mapped_column(BigInteger)
    overdue_late_charge: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class DelinquencySnapshot(Model):
    """Each overdue loan's bucket at a month end: what roll rates are computed from."""

    __tablename__ = "delinquency_snapshot"

    as_of: Mapped[date] = mapped_column(Date, primary_key=True)
    loan_id: Mapped[int] = mapped_column(
        ForeignKey("loan.id", ondelete="CASCADE"), primary_key=True
    )
    bucket: Mapped[str] = mapped_column(String(20))
    days_past_due: Mapped[int] = mapped_column(Integer)
    overdue_total: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))


class CaseTransition(Model):
    """A case moving between stages (or opening, curing), with the reason, for the timeline."""

    __tablename__ = "case_transition"
    # No unique key on (case, run date, stage): an admin may edit the strategy twice in a day,
    # and each rerun's move is history. Reruns add nothing unless something moved.

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("collection_case.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))  # opened / stage / cured / closed / escalated
    from_stage: Mapped[int | None] = mapped_column(Integer)
    to_stage: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200))
    run_on: Mapped[date] = mapped_column(Date)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[CollectionCase] = relationship(back_populates="transitions")


class PromiseToPay(Model):
    __tablename__ = "promise_to_pay"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        # One pending promise per case, whatever the database's locking does.
        Index(
            "uq_promise_to_pay_pending_case",
            "case_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("collection_case.id", ondelete="CASCADE"), index=True
    )
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    promised_on: Mapped[date] = mapped_column(Date)
    # Payments on the loan since this moment count toward the promise.
    made_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[PromiseStatus] = mapped_column(
        enum_column(PromiseStatus, "promise_status"), default=PromiseStatus.PENDING
    )
    resolved_on: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class CaseNote(Model):
    __tablename__ = "case_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("collection_case.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Assessment(Model):
    """The collector's structured assessment of ability and willingness to pay."""

    __tablename__ = "case_assessment"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("collection_case.id", ondelete="CASCADE"), index=True
    )
    income_situation: Mapped[str] = mapped_column(String(200))
    monthly_income_minor: Mapped[int | None] = mapped_column(BigInteger)
    arrears_reason: Mapped[ArrearsReason] = mapped_column(
        enum_column(ArrearsReason, "arrears_reason")
    )
    willingness: Mapped[Willingness] = mapped_column(enum_column(Willingness, "willingness"))
    can_pay_minor_per_month: Mapped[int | None] = mapped_column(BigInteger)
    next_step: Mapped[str] = mapped_column(String(200))
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LegalRequest(Model):
    """A request to take a case to the legal stage, with its evidence and the admin's decision."""

    __tablename__ = "legal_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("collection_case.id", ondelete="CASCADE"), index=True
    )
    requested_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text)
    checklist: Mapped[dict] = mapped_column(JSON, default=dict)
    # The evidence ZIP frozen when the request was approved, and its manifest's SHA-256: what
    # was approved is exactly what every download hands over. Loaded only when asked for.
    bundle_sha256: Mapped[str | None] = mapped_column(String(64))
    bundle_zip: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision: Mapped[str | None] = mapped_column(String(10))  # approved / rejected
    decision_note: Mapped[str | None] = mapped_column(Text)


class AgencyPlacement(Model):
    """A case placed with an outside collection agency, and what the agency reported."""

    __tablename__ = "agency_placement"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("collection_case.id", ondelete="CASCADE"), index=True
    )
    agency: Mapped[str] = mapped_column(String(120))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    placed_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(40), default="placed")
    updates: Mapped[list] = mapped_column(JSON, default=list)
