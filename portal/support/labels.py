"""Words for the inbox's codes (topics, statuses, channels, events), in the reader's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.collections import labels as collections_labels
from portal.complaints import labels as complaint_labels
from portal.messaging import labels as messaging_labels
from portal.payments.labels import PAYMENT_STATE_LABELS
from portal.plans.labels import STATUS_LABELS as PLAN_STATUS_LABELS
from portal.support.models import ConversationStatus, Presence, SupportChannel, Topic

TOPIC_LABELS = {
    Topic.REPAYMENT: _l("Repayment"),
    Topic.INSTALLMENT_PLAN: _l("Installment plan"),
    Topic.DISPUTE: _l("Dispute or complaint"),
    Topic.OTHER: _l("Something else"),
}
STATUS_LABELS = {
    ConversationStatus.QUEUED: _l("Waiting for an agent"),
    ConversationStatus.ASSIGNED: _l("With an agent"),
    ConversationStatus.CLOSED: _l("Closed"),
}
CHANNEL_LABELS = {SupportChannel.CHAT: _l("Chat"), SupportChannel.SMS: _l("Text message")}
PRESENCE_LABELS = {
    Presence.ONLINE: _l("Online"),
    Presence.AWAY: _l("Away"),
    Presence.OFFLINE: _l("Offline"),
}
# System messages store an event code; each reader sees it in their own language.
EVENT_TEXTS = {
    "assigned": _l("An agent has joined the conversation."),
    "returned_to_queue": _l("The conversation is back in the queue for the next agent."),
    "closed": _l("The conversation is closed."),
    # portal/complaints/from_chat.py
    "complaint_opened": _l("A complaint was opened from this conversation."),
}


def topic_label(topic: Topic) -> str:
    return str(TOPIC_LABELS[topic])


def status_label(status: ConversationStatus) -> str:
    return str(STATUS_LABELS[status])


def channel_label(channel: SupportChannel) -> str:
    return str(CHANNEL_LABELS[channel])


def presence_label(presence: Presence) -> str:
    return str(PRESENCE_LABELS[presence])


def event_text(code: str) -> str:
    """A system message's words; an unknown code is shown as itself rather than hidden."""
    return str(EVENT_TEXTS.get(code, code))


# The other capabilities' words the customer panel shows (each table kept in its home).
PANEL_LABELS = {
    "plan_status": PLAN_STATUS_LABELS,
    "payment_state": PAYMENT_STATE_LABELS,
    "promise_status": collections_labels.PROMISE_STATUS_LABELS,
    "complaint_status": complaint_labels.STATUS_LABELS,
    "hold_reason": collections_labels.HOLD_REASON_LABELS,
    "channel": messaging_labels.CHANNEL_LABELS,
}
