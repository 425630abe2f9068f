"""A hardship request on an open collection case, and the documents that support it."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.dbtypes import UTCDateTime, enum_column
from portal.extensions import Model


class HardshipReason(enum.StrEnum):
    ILLNESS = "illness"
    JOB_LOSS = "job_loss"
    REDUCED_INCOME = "reduced_income"
    FAMILY_EMERGENCY = "family_emergency"
    OTHER = "other"


class HardshipStatus(enum.StrEnum):
    PENDING = "pending"  # under review: the hardship-review hold is open
    DECIDED = "decided"


class HardshipDecision(enum.StrEnum):
    PAUSE = "pause"  # collection contact paused for a number of days
    WAIVER = "waiver"  # late charges (and/or interest) overdue waived
    PLAN = "plan"  # referred to an installment plan (decision text; plans are a later step)
    NO_CHANGE = "no_change"


class HardshipRequest(Model):
    __tablename__ = "hardship_request"
    __table_args__ = (
        # One request under review per case, whatever the database's locking does.
        Index(
            "uq_hardship_request_pending_case",
            "case_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("collection_case.id", ondelete="RESTRICT"), index=True
    )
    borrower_id: Mapped[int] = mapped_column(
        ForeignKey("borrower_profile.user_id", ondelete="RESTRICT"), index=True
    )
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id", ondelete="RESTRICT"))
    reason: Mapped[HardshipReason] = mapped_column(enum_column(HardshipReason, "hardship_reason"))
    details: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[HardshipStatus] = mapped_column(
        enum_column(HardshipStatus, "hardship_status"), default=HardshipStatus.PENDING
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("contact_hold.id"))
    decision: Mapped[HardshipDecision | None] = mapped_column(
        enum_column(HardshipDecision, "hardship_decision")
    )
    decision_reason: Mapped[str | None] = mapped_column(Text)
    pause_days: Mapped[int | None] = mapped_column(Integer)
    waived_minor: Mapped[int | None] = mapped_column(BigInteger)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    documents: Mapped[list[HardshipDocument]] = relationship(
        back_populates="request", order_by="HardshipDocument.id", cascade="all, delete-orphan"
    )


class HardshipDocument(Model):
    """A stored file: ``stored_name`` is random (never the uploaded name); ``filename`` is the
    uploaded name cleaned for display and for Content-Disposition only."""

    __tablename__ = "hardship_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("hardship_request.id", ondelete="CASCADE"), index=True
    )
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(120))
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    request: Mapped[HardshipRequest] = relationship(back_populates="documents")
