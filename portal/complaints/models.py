"""A complaint, its thread (immutable events), its attachments, the business calendar, and the
yearly counter that numbers complaints (``CMP-2026-000123``)."""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.dbtypes import UTCDateTime, enum_column
from portal.extensions import Model


class ComplaintCategory(enum.StrEnum):
    COLLECTION_CONDUCT = "collection_conduct"  # harassment, rudeness, contact out of hours
    AMOUNT_DISPUTE = "amount_dispute"  # an amount or fee the borrower disputes
    PAYMENT_NOT_CREDITED = "payment_not_credited"
    PRIVACY = "privacy"
    INSTALLMENT_PLAN = "installment_plan"
    SERVICE_QUALITY = "service_quality"
    OTHER = "other"


# Complaints about collecting pause collection contact until they are resolved.
HOLD_CATEGORIES = frozenset(
    {
        ComplaintCategory.COLLECTION_CONDUCT,
        ComplaintCategory.AMOUNT_DISPUTE,
        ComplaintCategory.PAYMENT_NOT_CREDITED,
    }
)


class ComplaintChannel(enum.StrEnum):
    PORTAL = "portal"
    CHAT = "chat"
    PHONE = "phone"
    EMAIL = "email"
    LETTER = "letter"


class ComplaintStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    ACKNOWLEDGED = "acknowledged"
    INVESTIGATING = "investigating"
    AWAITING_BORROWER = "awaiting_borrower"
    RESOLVED = "resolved"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


class Remedy(enum.StrEnum):
    NONE = "none"
    APOLOGY = "apology"
    RECORD_CORRECTION = "record_correction"
    WAIVER = "waiver"  # late charges, fees or interest, through portal.loans.adjustments.waive


class RootCause(enum.StrEnum):
    STAFF_CONDUCT = "staff_conduct"
    PROCESS_ERROR = "process_error"
    SYSTEM_ERROR = "system_error"
    POLICY = "policy"
    COMMUNICATION = "communication"
    THIRD_PARTY = "third_party"
    NO_FAULT = "no_fault"


class EventKind(enum.StrEnum):
    FILED = "filed"
    REPLY = "reply"  # staff to borrower (public)
    BORROWER_REPLY = "borrower_reply"
    NOTE = "note"  # internal: never shown to the borrower
    STATUS = "status"  # a status change (public)
    ASSIGNED = "assigned"  # internal
    ESCALATED = "escalated"  # internal
    EXTENDED = "extended"  # a deadline extension with its reason (internal)
    EVIDENCE = "evidence"  # the borrower added files (public)


class Complaint(Model):
    __tablename__ = "complaint"
    __table_args__ = (
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_range"),
        CheckConstraint("extension_level BETWEEN 0 AND 2", name="extension_range"),
        CheckConstraint("remedy_minor IS NULL OR remedy_minor >= 0", name="remedy_non_negative"),
        Index("ix_complaint_queue", "status", "handler_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    borrower_id: Mapped[int] = mapped_column(
        ForeignKey("borrower_profile.user_id", ondelete="RESTRICT"), index=True
    )
    category: Mapped[ComplaintCategory] = mapped_column(
        enum_column(ComplaintCategory, "complaint_category")
    )
    description: Mapped[str] = mapped_column(Text)
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loan.id", ondelete="RESTRICT"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id", ondelete="RESTRICT"))
    channel: Mapped[ComplaintChannel] = mapped_column(
        enum_column(ComplaintChannel, "complaint_channel")
    )
    status: Mapped[ComplaintStatus] = mapped_column(
        enum_column(ComplaintStatus, "complaint_status")
    )
    # The complaint rulebook its clocks run under (CN, US_CFPB, UK_DISP), fixed at filing.
    rulebook_code: Mapped[str] = mapped_column(String(20))
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The staff member whose conduct is complained about, if any: never its handler.
    subject_staff_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    escalated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the clocks start here
    acknowledge_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    response_due_at: Mapped[datetime] = mapped_column(UTCDateTime)  # per extension_level
    extension_level: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    extension_reason: Mapped[str | None] = mapped_column(Text)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str | None] = mapped_column(Text)  # shown to the borrower
    remedy: Mapped[Remedy | None] = mapped_column(enum_column(Remedy, "complaint_remedy"))
    remedy_minor: Mapped[int | None] = mapped_column(BigInteger)
    remedy_currency: Mapped[str | None] = mapped_column(String(3))
    root_cause: Mapped[RootCause | None] = mapped_column(
        enum_column(RootCause, "complaint_root_cause")
    )
    systemic: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    rating: Mapped[int | None] = mapped_column(Integer)
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("contact_hold.id"))
    # Opened from a support conversation: that conversation up to this sequence number is the
    # complaint's transcript (portal/complaints/from_chat.py). One complaint per conversation.
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("support_conversation.id", ondelete="RESTRICT"), unique=True
    )
    conversation_seq: Mapped[int | None] = mapped_column(Integer)

    events: Mapped[list[ComplaintEvent]] = relationship(
        back_populates="complaint", order_by="ComplaintEvent.id"
    )
    attachments: Mapped[list[ComplaintAttachment]] = relationship(
        back_populates="complaint", order_by="ComplaintAttachment.id"
    )

    @property
    def response_last_moment(self) -> datetime:
        """The last instant of the response deadline (stored as when the next day starts), so
        that shown as a date, in any zone, it names the last day included."""
        return self.response_due_at - timedelta(microseconds=1)


class ComplaintEvent(Model):
    """One entry of the thread. Never changed or deleted once written (see the listeners)."""

    __tablename__ = "complaint_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaint.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[EventKind] = mapped_column(enum_column(EventKind, "complaint_event_kind"))
    public: Mapped[bool] = mapped_column(Boolean)
    body: Mapped[str] = mapped_column(Text, default="")
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    complaint: Mapped[Complaint] = relationship(back_populates="events")


class ImmutableEvent(Exception):
    """A complaint event was changed or deleted: the thread is a record, never rewritten."""


@event.listens_for(ComplaintEvent, "before_update")
@event.listens_for(ComplaintEvent, "before_delete")
def _refuse_rewrite(mapper, connection, target) -> None:
    raise ImmutableEvent(f"complaint event {target.id} is immutable")


class ComplaintAttachment(Model):
    """A stored file: ``stored_name`` is random (never the uploaded name); ``filename`` is the
    uploaded name cleaned, for display and Content-Disposition only."""

    __tablename__ = "complaint_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaint.id", ondelete="RESTRICT"), index=True
    )
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(120))
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    complaint: Mapped[Complaint] = relationship(back_populates="attachments")


class CalendarDayKind(enum.StrEnum):
    HOLIDAY = "holiday"  # a weekday on which nobody works
    WORKING_DAY = "working_day"  # a weekend day worked in exchange (China's adjusted days)


class BusinessCalendarDay(Model):
    """An exception to Monday-to-Friday in one rulebook's business calendar, kept by admins."""

    __tablename__ = "business_calendar_day"
    __table_args__ = (UniqueConstraint("rulebook_code", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rulebook_code: Mapped[str] = mapped_column(String(20))
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[CalendarDayKind] = mapped_column(enum_column(CalendarDayKind, "calendar_day_kind"))
    name: Mapped[str] = mapped_column(String(120), default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ComplaintCounter(Model):
    """The last number given in a year: incremented under its row lock, so two filings at the
    same moment get different references."""

    __tablename__ = "complaint_counter"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer, default=0)
