"""A complaint opened from a support conversation in one click, with the chat as its evidence.

The clocks start at the borrower's first message in the conversation (when the lender first
heard of it), not at the click. The complaint keeps the conversation and the last sequence number
at the time of filing: its transcript is those messages, which can never be edited (support
messages are immutable), so the evidence stays as it was even if the chat goes on.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.auth.models import User
from portal.complaints.models import Complaint, ComplaintCategory, ComplaintChannel
from portal.complaints.services import ComplaintRefused, ComplaintSettings, file_complaint
from portal.complaints.thread import BODY_MAX
from portal.extensions import db
from portal.support.conversations import (
    append_system_message,
    check_can_read,
    locked_conversation,
)
from portal.support.models import Conversation, ConversationMessage, Sender

COMPLAINT_OPENED = "complaint_opened"  # the system message the conversation shows


class AlreadyAComplaint(ComplaintRefused):
    status_code = 409

    def __init__(self, reference: str):
        super().__init__(
            _l("This conversation is already complaint %(reference)s.", reference=reference)
        )
        self.reference = reference


class NothingFromTheBorrower(ComplaintRefused):
    message = _l("The borrower has not written anything in this conversation yet.")


def _borrower_messages(conversation: Conversation) -> list[ConversationMessage]:
    return list(
        db.session.scalars(
            select(ConversationMessage)
            .where(
                ConversationMessage.conversation_id == conversation.id,
                ConversationMessage.sender == Sender.BORROWER,
            )
            .order_by(ConversationMessage.seq)
        )
    )


def _description(messages: list[ConversationMessage]) -> str:
    """The borrower's own words, in order, cut to what a complaint's description holds."""
    words = "\n".join(message.body.strip() for message in messages)
    return words if len(words) <= BODY_MAX else words[: BODY_MAX - 1] + "…"


def complaint_of_conversation(conversation_id: int) -> Complaint | None:
    return db.session.scalar(select(Complaint).where(Complaint.conversation_id == conversation_id))


def file_from_conversation(
    conversation_id: int,
    *,
    agent: User,
    category: ComplaintCategory,
    now: datetime,
    settings: ComplaintSettings,
    ip_address: str | None = None,
) -> Complaint:
    """Open a complaint for the conversation's borrower, filed by ``agent`` (the conversation's
    agent or an admin; anyone else gets not found). Its description is the borrower's messages;
    its clocks start at the first of them. Raises AlreadyAComplaint (one complaint per
    conversation, also against a concurrent click: the row lock and a unique index) or
    NothingFromTheBorrower. The caller commits."""
    conversation = locked_conversation(conversation_id)
    check_can_read(agent, conversation)
    existing = complaint_of_conversation(conversation.id)
    if existing is not None:
        raise AlreadyAComplaint(existing.reference)
    messages = _borrower_messages(conversation)
    if not messages:
        raise NothingFromTheBorrower()
    complaint = file_complaint(
        borrower=db.session.get_one(User, conversation.borrower_id),
        category=category,
        description=_description(messages),
        loan_id=None,
        payment_id=None,
        uploads=[],
        channel=ComplaintChannel.CHAT,
        received_at=messages[0].created_at,
        now=now,
        settings=settings,
        actor_id=agent.id,
        ip_address=ip_address,
    )
    complaint.conversation_id = conversation.id
    append_system_message(conversation, COMPLAINT_OPENED, now=now)
    complaint.conversation_seq = conversation.last_seq  # up to the note that it was opened
    db.session.flush()
    return complaint


def transcript(complaint: Complaint, *, include_private: bool) -> list[ConversationMessage]:
    """The conversation as it was when the complaint was filed; the borrower never sees the
    agents' private notes."""
    if complaint.conversation_id is None:
        return []
    query = (
        select(ConversationMessage)
        .where(
            ConversationMessage.conversation_id == complaint.conversation_id,
            ConversationMessage.seq <= func.coalesce(complaint.conversation_seq, 0),
        )
        .order_by(ConversationMessage.seq)
    )
    if not include_private:
        query = query.where(ConversationMessage.is_private_note.is_(False))
    return list(db.session.scalars(query))
