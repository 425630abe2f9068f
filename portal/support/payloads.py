"""What clients receive: messages and conversation states as plain dicts (JSON), in the reader's
language. Text is sent as text; the pages put it in the DOM with ``textContent`` only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import select

from portal.auth.models import User
from portal.collections.labels import rule_label
from portal.extensions import db
from portal.messaging.labels import STATUS_LABELS
from portal.support.assignment import QueuePlace
from portal.support.labels import channel_label, event_text, status_label, topic_label
from portal.support.models import Conversation, ConversationMessage, Sender
from portal.support.outbound import DeliveryState, delivery_states


def message_payloads(
    messages: Sequence[ConversationMessage], *, for_staff: bool, now: datetime
) -> list[dict]:
    """The messages as a reader sees them; staff also see each text reply's delivery (queued,
    deferred until when and why, blocked and why). Two queries at most, whatever the count."""
    names = _names({m.sender_id for m in messages if m.sender_id})
    states = (
        delivery_states({m.outbox_message_id for m in messages if m.outbox_message_id}, now=now)
        if for_staff
        else {}
    )
    payloads = []
    for message in messages:
        payload = {
            "conversation_id": message.conversation_id,
            "seq": message.seq,
            "client_id": message.client_id,
            "sender": message.sender.value,
            "sender_name": _sender_name(message, names, for_staff),
            "channel": message.channel.value,
            "channel_label": channel_label(message.channel),
            "body": event_text(message.body) if message.sender is Sender.SYSTEM else message.body,
            "private_note": message.is_private_note,
            "created_at": message.created_at.isoformat(),
            "time": format_datetime(message.created_at, "short"),
        }
        state = states.get(message.outbox_message_id or 0)
        if state is not None:
            payload["delivery"] = _delivery_text(state)
        payloads.append(payload)
    return payloads


def _names(user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    return dict(db.session.execute(select(User.id, User.name).where(User.id.in_(user_ids))).all())


def _sender_name(message: ConversationMessage, names: dict[int, str], for_staff: bool) -> str:
    if message.sender is Sender.SYSTEM:
        return _("Settle")
    if message.sender is Sender.AGENT and not for_staff:
        return _("Support agent %(name)s", name=names.get(message.sender_id or 0, ""))
    return names.get(message.sender_id or 0, "")


def _delivery_text(state: DeliveryState) -> str:
    if state.status.value == "blocked":
        return _("Text not sent: %(reason)s.", reason=rule_label(state.rule))
    if state.deferred:
        return _(
            "Text held until %(when)s: %(reason)s.",
            when=format_datetime(state.not_before, "short"),
            reason=rule_label(state.rule),
        )
    return _("Text: %(status)s.", status=STATUS_LABELS.get(state.status.value, state.status.value))


def conversation_payload(
    conversation: Conversation, place: QueuePlace | None, *, for_staff: bool
) -> dict:
    """The conversation's state: status, topic, the queue place while it waits, read marks."""
    payload = {
        "id": conversation.id,
        "status": conversation.status.value,
        "status_label": status_label(conversation.status),
        "topic_label": topic_label(conversation.topic),
        "last_seq": conversation.last_seq,
        "reply_via": conversation.reply_via.value,
        # What the other side has read, for read receipts.
        "read_seq": conversation.borrower_read_seq if for_staff else conversation.agent_read_seq,
    }
    if place is not None:
        minutes = max(1, round(place.estimated_wait.total_seconds() / 60))
        payload["queue_text"] = _(
            "You are number %(position)s in the queue. Estimated wait: about %(minutes)s min.",
            position=place.position,
            minutes=minutes,
        )
        payload["position"] = place.position
    return payload
