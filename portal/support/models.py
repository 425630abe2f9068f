"""The support inbox: conversations between a borrower and the lender's agents, their messages,
and the agents' presence and languages.

A conversation is one thread whatever the channel: chat in the portal and text messages land in
the same sequence. Every message has a number (``seq``) that is unique in its conversation and
given out under the conversation's row lock, so a client that reconnects asks for everything
after the last number it saw. A transcript never changes once the conversation is closed (it may
become a complaint's evidence): messages are only ever added, never edited, and none is added to
a closed conversation.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.dbtypes import UTCDateTime, enum_column
from portal.extensions import Model

# A chat message is a conversation, not a letter; a text message is cut to 1,600 by providers.
MAX_BODY_LENGTH = 2000
MAX_RATING_COMMENT_LENGTH = 1000


class Topic(enum.StrEnum):
    """What the borrower wants to talk about, chosen before the chat starts."""

    REPAYMENT = "repayment"
    INSTALLMENT_PLAN = "installment_plan"
    DISPUTE = "dispute"  # a dispute or a complaint
    OTHER = "other"


class ConversationStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for an agent
    ASSIGNED = "assigned"
    CLOSED = "closed"


class Sender(enum.StrEnum):
    BORROWER = "borrower"
    AGENT = "agent"  # any staff member writing in the console
    SYSTEM = "system"  # "closed", "transferred"... written by the portal itself


class SupportChannel(enum.StrEnum):
    CHAT = "chat"
    SMS = "sms"


class Presence(enum.StrEnum):
    ONLINE = "online"  # takes new conversations
    AWAY = "away"  # keeps their conversations, takes no new ones
    OFFLINE = "offline"


class Conversation(Model):
    __tablename__ = "support_conversation"
    __table_args__ = (
        # One open conversation per borrower, whatever two requests do at once.
        Index(
            "uq_support_conversation_open_borrower",
            "borrower_id",
            unique=True,
            sqlite_where=text("status <> 'closed'"),
            postgresql_where=text("status <> 'closed'"),
        ),
        Index("ix_support_conversation_queue", "status", "queued_at"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_range"),
        CheckConstraint("last_seq >= 0", name="last_seq_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    borrower_id: Mapped[int] = mapped_column(
        ForeignKey("borrower_profile.user_id", ondelete="RESTRICT"), index=True
    )
    topic: Mapped[Topic] = mapped_column(enum_column(Topic, "support_topic"))
    status: Mapped[ConversationStatus] = mapped_column(
        enum_column(ConversationStatus, "support_status")
    )
    # The language the borrower reads: assignment looks for an agent who speaks it.
    locale: Mapped[str] = mapped_column(String(10))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    # Where it began, and where the borrower last wrote from: an agent's reply goes back there.
    opened_via: Mapped[SupportChannel] = mapped_column(
        enum_column(SupportChannel, "support_opened_via")
    )
    reply_via: Mapped[SupportChannel] = mapped_column(
        enum_column(SupportChannel, "support_reply_via")
    )
    # The last sequence number given out; raised under the row lock by each new message.
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    # The last message each side has read (read receipts).
    borrower_read_seq: Mapped[int] = mapped_column(Integer, default=0)
    agent_read_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Since when it waits in the queue (reset when it is sent back): the queue's order.
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(String(MAX_RATING_COMMENT_LENGTH))
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_open(self) -> bool:
        return self.status is not ConversationStatus.CLOSED


class ConversationMessage(Model):
    __tablename__ = "support_message"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq"),
        # A resend of the same message (same client id from the same sender) is never stored
        # twice. System messages have no client id and no sender: NULLs never conflict.
        UniqueConstraint("conversation_id", "sender_id", "client_id"),
        CheckConstraint("seq >= 1", name="seq_positive"),
        CheckConstraint(f"length(body) <= {MAX_BODY_LENGTH}", name="body_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("support_conversation.id", ondelete="CASCADE")
    )
    seq: Mapped[int] = mapped_column(Integer)
    client_id: Mapped[str | None] = mapped_column(String(64))
    sender: Mapped[Sender] = mapped_column(enum_column(Sender, "support_sender"))
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    channel: Mapped[SupportChannel] = mapped_column(enum_column(SupportChannel, "support_channel"))
    body: Mapped[str] = mapped_column(Text)
    # Seen by staff only, never by the borrower, never sent by text.
    is_private_note: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # An agent's reply by text: the outbox message that carries it (its guard decision, status).
    outbox_message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    conversation: Mapped[Conversation] = relationship()


class SupportAgent(Model):
    """A staff member's standing in the inbox: presence and the languages they answer in."""

    __tablename__ = "support_agent"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    presence: Mapped[Presence] = mapped_column(
        enum_column(Presence, "support_presence"), default=Presence.OFFLINE
    )
    # Locale codes separated by commas, e.g. "zh_CN,en".
    languages: Mapped[str] = mapped_column(String(60))
    presence_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @property
    def language_list(self) -> list[str]:
        return [code for code in self.languages.split(",") if code]


@event.listens_for(ConversationMessage, "before_update")
def _messages_are_never_edited(mapper, connection, target: ConversationMessage) -> None:
    """A transcript is a record: a correction is a new message, never an edit of an old one."""
    raise ValueError("support messages are immutable; add a new message instead")
