"""Messaging: templates and their versions, the outbox, contact decisions, holds and opt-outs.

The ``message`` table is the outbox: a row is written in the same transaction as the decision to
contact someone, and workers deliver it. Every message names the template version it used.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import Channel
from portal.dbtypes import UTCDateTime, enum_column
from portal.extensions import Model
from portal.timeutil import utcnow


class MessageStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for a worker (``not_before`` may defer it)
    SENDING = "sending"  # claimed by a worker
    SENT = "sent"  # handed to the channel (SMTP accepted, provider accepted, notice visible)
    DELIVERED = "delivered"  # the channel confirmed delivery (SMS status callback)
    FAILED = "failed"  # a try failed; retried at ``not_before``
    DEAD = "dead"  # gave up: permanent failure or too many tries
    BLOCKED = "blocked"  # the contact-rules guard refused it; ``blocked_rule`` says why
    CANCELLED = "cancelled"  # no longer true (the loan was paid); ``cancel_reason`` says why


class ContactKind(enum.StrEnum):
    """Why we contact someone; the contact rules differ by kind."""

    REMINDER = "reminder"  # courtesy reminders: every opt-out applies
    COLLECTION = "collection"  # overdue notices, calls, letters: every collection rule applies
    REQUIRED_NOTICE = "required_notice"  # receipts, confirmations: opt-outs never block them


class CallOutcome(enum.StrEnum):
    CONNECTED = "connected"
    NO_ANSWER = "no_answer"
    WRONG_NUMBER = "wrong_number"
    REFUSED = "refused"
    PROMISE_TO_PAY = "promise_to_pay"


class HoldReason(enum.StrEnum):
    DISPUTE = "dispute"
    COMPLAINT = "complaint"
    HARDSHIP_REVIEW = "hardship_review"


class MessageTemplate(Model):
    """One purpose on one channel in one locale; its text lives in versions."""

    __tablename__ = "message_template"
    __table_args__ = (UniqueConstraint("purpose", "channel", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(40))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "template_channel"))
    locale: Mapped[str] = mapped_column(String(10))

    versions: Mapped[list[TemplateVersion]] = relationship(
        back_populates="template", order_by="TemplateVersion.version"
    )


class TemplateVersion(Model):
    """Immutable text of a template; editing creates the next version."""

    __tablename__ = "template_version"
    __table_args__ = (
        UniqueConstraint("template_id", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("message_template.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(String(200), default="")
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    template: Mapped[MessageTemplate] = relationship(back_populates="versions")


class ProhibitedTerm(Model):
    """A word or phrase no outbound message may contain (admins extend the built-in list)."""

    __tablename__ = "prohibited_term"
    __table_args__ = (UniqueConstraint("locale", "term"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    locale: Mapped[str] = mapped_column(String(10))
    term: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(20))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Message(Model):
    """The outbox: one contact with one borrower (or their emergency contact) on one channel."""

    __tablename__ = "message"
    __table_args__ = (
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        # Workers look for due work by status and time.
        Index("ix_message_due", "status", "not_before"),
        Index("ix_message_borrower_channel_sent", "borrower_id", "channel", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Sent with the message (email Message-ID, SMS provider reference): a retry is recognisable.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    # Business key that makes generation idempotent, e.g. "reminder:<installment>:<days>:<channel>".
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    borrower_id: Mapped[int] = mapped_column(
        ForeignKey("borrower_profile.user_id", ondelete="RESTRICT"), index=True
    )
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loan.id", ondelete="RESTRICT"))
    emergency_contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("emergency_contact.id", ondelete="RESTRICT")
    )
    purpose: Mapped[str] = mapped_column(String(40))
    kind: Mapped[ContactKind] = mapped_column(enum_column(ContactKind, "contact_kind"))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "message_channel"))
    locale: Mapped[str] = mapped_column(String(10))
    template_version_id: Mapped[int | None] = mapped_column(ForeignKey("template_version.id"))
    recipient: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200), default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str | None] = mapped_column(Text)
    status: Mapped[MessageStatus] = mapped_column(enum_column(MessageStatus, "message_status"))
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    blocked_rule: Mapped[str | None] = mapped_column(String(60))
    # Why a message was withdrawn before it left (portal/messaging/stale.py): "not_overdue",
    # "installment_paid"; labels in portal/messaging/labels.py.
    cancel_reason: Mapped[str | None] = mapped_column(String(40))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(36), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_reference: Mapped[str | None] = mapped_column(String(100), index=True)
    call_outcome: Mapped[CallOutcome | None] = mapped_column(
        enum_column(CallOutcome, "call_outcome")
    )
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    template_version: Mapped[TemplateVersion | None] = relationship()
    renderings: Mapped[list[MessageRendering]] = relationship(
        back_populates="message", lazy="raise", cascade="all, delete-orphan"
    )


class MessageRendering(Model):
    """A portal notice as it reads in another language, rendered when it was queued.

    The message row stays the record of what was sent in the borrower's language; a borrower
    who reads the portal in another language sees this rendering, fixed at the same moment and
    from the same facts, so it can be shown later exactly as it was.
    """

    __tablename__ = "message_rendering"
    __table_args__ = (UniqueConstraint("message_id", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(10))
    template_version_id: Mapped[int] = mapped_column(ForeignKey("template_version.id"))
    subject: Mapped[str] = mapped_column(String(200), default="")
    body_text: Mapped[str] = mapped_column(Text, default="")

    message: Mapped[Message] = relationship(back_populates="renderings")


class ContactDecisionRecord(Model):
    """Every decision of the contact-rules guard, with the rule that made it."""

    __tablename__ = "contact_decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    borrower_id: Mapped[int] = mapped_column(
        ForeignKey("borrower_profile.user_id", ondelete="RESTRICT"), index=True
    )
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id"), index=True)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "decision_channel"))
    kind: Mapped[ContactKind] = mapped_column(enum_column(ContactKind, "decision_kind"))
    outcome: Mapped[str] = mapped_column(String(10))  # send / defer / block
    rule: Mapped[str] = mapped_column(String(60))
    rulebook: Mapped[str] = mapped_column(String(20))
    rulebook_version: Mapped[int] = mapped_column(Integer)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class Rulebook(Model):
    """A version of a jurisdiction's contact rules; the newest version of a code is in force."""

    __tablename__ = "rulebook"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)
    settings: Mapped[dict] = mapped_column(JSON)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PortalSetting(Model):
    """Lender-wide settings admins change at run time (e.g. the lender's rulebook)."""

    __tablename__ = "portal_setting"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ContactHold(Model):
    """While open, collection contact and reminders pause (a dispute, complaint or review)."""

    __tablename__ = "contact_hold"

    id: Mapped[int] = mapped_column(primary_key=True)
    borrower_id: Mapped[int] = mapped_column(
        ForeignKey("borrower_profile.user_id", ondelete="RESTRICT"), index=True
    )
    reason: Mapped[HoldReason] = mapped_column(enum_column(HoldReason, "hold_reason"))
    note: Mapped[str] = mapped_column(String(500), default="")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opened_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # A hold that lapses by itself (a hardship review or pause): from then on it no longer
    # pauses contact (portal.messaging.facts), even while closed_at is still empty.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EmergencyContact(Model):
    """A third party the borrower named; contacted only to locate, never told of the debt."""

    __tablename__ = "emergency_contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    borrower_id: Mapped[int] = mapped_column(
        ForeignKey("borrower_profile.user_id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(20), index=True)  # E.164; inbound STOP looks it up
    relationship_to_borrower: Mapped[str] = mapped_column(String(40))
    # The contact texted STOP: the guard blocks every further message to them until START.
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Removed by the borrower. Kept, not deleted: messages already sent name this row.
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InboundSms(Model):
    """A text sent to us (STOP, START, HELP...) by a borrower, an emergency contact or anyone,
    kept once per provider message id."""

    __tablename__ = "inbound_sms"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_reference: Mapped[str] = mapped_column(String(100), unique=True)
    from_number: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(String(1600))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    borrower_id: Mapped[int | None] = mapped_column(ForeignKey("borrower_profile.user_id"))
    action: Mapped[str] = mapped_column(String(20), default="none")  # opt_out / opt_in / none


class SmsLog(Model):
    """What the ``log`` SMS adapter would have sent: the demo shows it instead of a provider."""

    __tablename__ = "sms_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id"), unique=True)
    to_number: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(String(1600))
    logged_at: Mapped[datetime] = mapped_column(UTCDateTime)
