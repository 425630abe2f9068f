"""Conversations and their messages: start, post (idempotently, numbered), replay, close, rate.

Every function flushes and never commits: the adapter (a route, a Socket.IO handler, the SMS
webhook) commits once and only then broadcasts, so nothing is shown that was not stored.

Who may do what is checked here against the conversation itself, never trusted from a client's
id: a borrower reaches only their own conversations (others are "not found"), an agent writes
only in conversations assigned to them, an admin reads everything and writes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from portal.auth.models import Role, User
from portal.domain import DomainError, NotFound
from portal.extensions import db
from portal.support.models import (
    MAX_BODY_LENGTH,
    MAX_RATING_COMMENT_LENGTH,
    Conversation,
    ConversationMessage,
    ConversationStatus,
    Sender,
    SupportChannel,
    Topic,
)
from portal.support.outbound import enqueue_sms_reply

# What a client may use as its own message id: a UUID or anything as plain and short.
CLIENT_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


class ConversationNotFound(NotFound):
    message = _l("We could not find that conversation.")


class NotYourConversation(DomainError):
    status_code = 403
    message = _l("This conversation is not assigned to you.")


class ConversationClosed(DomainError):
    status_code = 409
    message = _l("This conversation is closed.")


class InvalidMessage(DomainError):
    status_code = 422
    message = _l("Write a message of at most %(limit)s characters.", limit=MAX_BODY_LENGTH)


class RatingRefused(DomainError):
    status_code = 422
    message = _l("Choose a rating from 1 to 5 for a closed conversation, once.")


@dataclass(frozen=True)
class Posted:
    message: ConversationMessage
    duplicate: bool  # the same client id was posted before: the stored message, unchanged


def open_conversation_of(borrower_id: int) -> Conversation | None:
    """The borrower's open (queued or assigned) conversation, if any."""
    return db.session.scalar(
        select(Conversation).where(
            Conversation.borrower_id == borrower_id,
            Conversation.status != ConversationStatus.CLOSED,
        )
    )


def start_conversation(
    borrower: User, topic: Topic, *, now: datetime, channel: SupportChannel = SupportChannel.CHAT
) -> Conversation:
    """The borrower's open conversation, or a new one in the queue on ``topic``.

    A borrower has at most one open conversation (a unique index says so even when two
    requests race): asking again returns the open one. Flushes.
    """
    existing = open_conversation_of(borrower.id)
    if existing is not None:
        return existing
    conversation = Conversation(
        borrower_id=borrower.id,
        topic=topic,
        status=ConversationStatus.QUEUED,
        locale=borrower.locale or current_app.config["DEFAULT_LOCALE"],
        opened_via=channel,
        reply_via=channel,
        last_seq=0,
        borrower_read_seq=0,
        agent_read_seq=0,
        created_at=now,
        queued_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(conversation)
    except IntegrityError:  # another request opened one a moment ago: that one
        existing = open_conversation_of(borrower.id)
        if existing is None:
            raise
        return existing
    return conversation


def locked_conversation(conversation_id: int) -> Conversation:
    """The conversation, its row locked until commit (PostgreSQL: FOR UPDATE; SQLite has one
    writer at a time anyway) and read fresh; ConversationNotFound if there is none."""
    conversation = db.session.scalar(
        select(Conversation)
        .where(Conversation.id == conversation_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if conversation is None:
        raise ConversationNotFound()
    return conversation


def check_can_read(viewer: User, conversation: Conversation) -> None:
    """A borrower their own, an agent those assigned to them, an admin all; else not found."""
    if viewer.role is Role.ADMIN:
        return
    if viewer.role is Role.BORROWER and conversation.borrower_id == viewer.id:
        return
    if viewer.role is Role.AGENT and conversation.agent_id == viewer.id:
        return
    raise ConversationNotFound()


def check_can_write(viewer: User, conversation: Conversation) -> None:
    """The borrower and the assigned agent write; an admin only reads; nobody writes after the
    conversation is closed."""
    check_can_read(viewer, conversation)
    if viewer.role is Role.ADMIN:
        raise NotYourConversation()
    if not conversation.is_open:
        raise ConversationClosed()


def readable_conversation(viewer: User, conversation_id: int) -> Conversation:
    conversation = db.session.get(Conversation, conversation_id)
    if conversation is None:
        raise ConversationNotFound()
    check_can_read(viewer, conversation)
    return conversation


def post_message(
    conversation_id: int,
    *,
    author: User,
    body: str,
    client_id: str | None,
    now: datetime,
    channel: SupportChannel = SupportChannel.CHAT,
    private_note: bool = False,
) -> Posted:
    """Store one message from the borrower or the assigned agent, numbered next in the
    conversation, once per ``client_id``.

    The conversation's row is locked first, so concurrent posts get consecutive numbers and a
    resend racing its original finds it. A resend returns the stored message (``duplicate``),
    even after the conversation closed. An agent's reply (not a private note) in a
    conversation the borrower last wrote by text goes out as a text through the outbox and the
    contact-rules guard. Raises ConversationNotFound, NotYourConversation, ConversationClosed,
    InvalidMessage. Flushes.
    """
    body = (body or "").strip()
    if not body or len(body) > MAX_BODY_LENGTH:
        raise InvalidMessage()
    if client_id is not None and not CLIENT_ID.fullmatch(client_id):
        raise InvalidMessage()
    conversation = locked_conversation(conversation_id)
    check_can_read(author, conversation)
    if client_id is not None:
        stored = db.session.scalar(
            select(ConversationMessage).where(
                ConversationMessage.conversation_id == conversation.id,
                ConversationMessage.sender_id == author.id,
                ConversationMessage.client_id == client_id,
            )
        )
        if stored is not None:
            return Posted(stored, duplicate=True)
    check_can_write(author, conversation)
    sender = Sender.BORROWER if author.role is Role.BORROWER else Sender.AGENT
    private_note = private_note and sender is Sender.AGENT
    outbox_message_id = None
    if sender is Sender.BORROWER:
        conversation.reply_via = channel
    elif not private_note and conversation.reply_via is SupportChannel.SMS:
        channel = SupportChannel.SMS
        outbox_message_id = enqueue_sms_reply(
            conversation.borrower_id, body, agent_id=author.id, now=now
        ).id
    message = _append(
        conversation,
        sender=sender,
        sender_id=author.id,
        client_id=client_id,
        channel=channel,
        body=body,
        now=now,
        is_private_note=private_note,
        outbox_message_id=outbox_message_id,
    )
    return Posted(message, duplicate=False)


def append_system_message(conversation: Conversation, event: str, *, now: datetime):
    """Note an event ("assigned", "closed"...) in the transcript; its words are chosen by each
    reader's language when shown (``portal.support.payloads``). Caller holds the row lock."""
    return _append(
        conversation,
        sender=Sender.SYSTEM,
        sender_id=None,
        client_id=None,
        channel=SupportChannel.CHAT,
        body=event,
        now=now,
        is_private_note=False,
    )


def _append(conversation: Conversation, *, now: datetime, **values) -> ConversationMessage:
    """Number the message next (in SQL, so the number is taken atomically) and store it."""
    seq = db.session.scalar(
        update(Conversation)
        .where(Conversation.id == conversation.id)
        .values(last_seq=Conversation.last_seq + 1)
        .returning(Conversation.last_seq)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(conversation, "last_seq", seq)  # what the database holds now
    message = ConversationMessage(
        conversation_id=conversation.id, seq=seq, created_at=now, **values
    )
    db.session.add(message)
    db.session.flush()
    return message


def messages_after(
    conversation: Conversation, after_seq: int, *, include_private: bool, limit: int = 500
) -> list[ConversationMessage]:
    """The conversation's messages numbered after ``after_seq``, in order: what a client that
    reconnects missed. Private notes only for staff."""
    query = (
        select(ConversationMessage)
        .where(
            ConversationMessage.conversation_id == conversation.id,
            ConversationMessage.seq > max(after_seq, 0),
        )
        .order_by(ConversationMessage.seq)
        .limit(limit)
    )
    if not include_private:
        query = query.where(ConversationMessage.is_private_note.is_(False))
    return list(db.session.scalars(query))


def mark_read(conversation_id: int, *, reader: User, seq: int) -> Conversation:
    """Record that ``reader``'s side has read up to ``seq`` (never backwards). Flushes."""
    conversation = locked_conversation(conversation_id)
    check_can_read(reader, conversation)
    seq = min(max(seq, 0), conversation.last_seq)
    if reader.role is Role.BORROWER:
        conversation.borrower_read_seq = max(conversation.borrower_read_seq, seq)
    elif reader.role is Role.AGENT:
        conversation.agent_read_seq = max(conversation.agent_read_seq, seq)
    db.session.flush()
    return conversation


def close_conversation(conversation_id: int, *, by: User, now: datetime) -> Conversation:
    """Close it: the borrower, the assigned agent or an admin. Closing twice changes nothing.
    The transcript is final from here on. Flushes."""
    conversation = locked_conversation(conversation_id)
    check_can_read(by, conversation)
    if not conversation.is_open:
        return conversation
    conversation.status = ConversationStatus.CLOSED
    conversation.closed_at = now
    conversation.closed_by = by.id
    conversation.queued_at = None
    append_system_message(conversation, "closed", now=now)
    return conversation


def rate_conversation(
    conversation_id: int, *, borrower: User, rating: int, comment: str, now: datetime
) -> Conversation:
    """The borrower's 1-5 rating and optional comment on their closed conversation, once.
    Raises ConversationNotFound, RatingRefused. Flushes."""
    conversation = locked_conversation(conversation_id)
    if borrower.role is not Role.BORROWER:
        raise ConversationNotFound()
    check_can_read(borrower, conversation)
    comment = (comment or "").strip()
    if (
        conversation.is_open
        or conversation.rating is not None
        or not 1 <= rating <= 5
        or len(comment) > MAX_RATING_COMMENT_LENGTH
    ):
        raise RatingRefused()
    conversation.rating = rating
    conversation.rating_comment = comment or None
    conversation.rated_at = now
    db.session.flush()
    return conversation


def latest_unrated_of(borrower_id: int) -> Conversation | None:
    """The borrower's most recent closed conversation if it still waits for a rating."""
    latest = db.session.scalar(
        select(Conversation)
        .where(Conversation.borrower_id == borrower_id)
        .order_by(Conversation.created_at.desc(), Conversation.id.desc())
        .limit(1)
    )
    if latest is None or latest.is_open or latest.rating is not None:
        return None
    return latest
