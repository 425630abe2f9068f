"""Words for codes shown on the staff messaging pages (channels, kinds, statuses, categories).

Lazily translated, so each page shows them in the reader's language; an unknown code is shown
as itself rather than hidden.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.auth.models import Channel
from portal.messaging.models import ContactKind, MessageStatus

CHANNEL_LABELS = {
    Channel.PORTAL.value: _l("Portal notice"),
    Channel.EMAIL.value: _l("Email"),
    Channel.SMS.value: _l("Text message"),
    Channel.PHONE.value: _l("Phone call"),
}
KIND_LABELS = {
    ContactKind.REMINDER.value: _l("Reminder"),
    ContactKind.COLLECTION.value: _l("Collection"),
    ContactKind.REQUIRED_NOTICE.value: _l("Required notice"),
}
STATUS_LABELS = {
    MessageStatus.QUEUED.value: _l("Queued"),
    MessageStatus.SENDING.value: _l("Sending"),
    MessageStatus.SENT.value: _l("Sent"),
    MessageStatus.DELIVERED.value: _l("Delivered"),
    MessageStatus.FAILED.value: _l("Failed, will retry"),
    MessageStatus.DEAD.value: _l("Gave up"),
    MessageStatus.BLOCKED.value: _l("Blocked"),
    MessageStatus.CANCELLED.value: _l("Cancelled"),
}
# Bootstrap badge classes and chart colours per status, in the same order as STATUS_LABELS.
STATUS_BADGES = {
    MessageStatus.QUEUED.value: "text-bg-secondary",
    MessageStatus.SENDING.value: "text-bg-info",
    MessageStatus.SENT.value: "text-bg-primary",
    MessageStatus.DELIVERED.value: "text-bg-success",
    MessageStatus.FAILED.value: "text-bg-warning",
    MessageStatus.DEAD.value: "text-bg-dark",
    MessageStatus.BLOCKED.value: "text-bg-danger",
    MessageStatus.CANCELLED.value: "text-bg-light",
}
STATUS_COLOURS = {
    MessageStatus.QUEUED.value: "#6c757d",
    MessageStatus.SENDING.value: "#0dcaf0",
    MessageStatus.SENT.value: "#1f5f4a",
    MessageStatus.DELIVERED.value: "#2f7d5b",
    MessageStatus.FAILED.value: "#e0a526",
    MessageStatus.DEAD.value: "#212529",
    MessageStatus.BLOCKED.value: "#d1495b",
    MessageStatus.CANCELLED.value: "#adb5bd",
}
# Why a message was cancelled before it left (Message.cancel_reason; portal/messaging/stale.py).
CANCEL_REASON_LABELS = {
    "not_overdue": _l("the loan is no longer overdue"),
    "installment_paid": _l("the installment has been paid"),
}
CATEGORY_LABELS = {
    "threat": _l("Threats"),
    "insult": _l("Insults"),
    "false_legal_claim": _l("False legal claims"),
    "third_party_disclosure": _l("Disclosure to third parties"),
}
RELATIONSHIP_LABELS = {
    "spouse": _l("Spouse or partner"),
    "parent": _l("Parent"),
    "child": _l("Son or daughter"),
    "sibling": _l("Brother or sister"),
    "relative": _l("Other relative"),
    "friend": _l("Friend"),
    "colleague": _l("Colleague"),
}
THIRD_PARTY_MODES = {
    "emergency_contacts_when_unreachable": _l(
        "Emergency contacts, only when the borrower is unreachable"
    ),
    "never": _l("Never"),
}
RULEBOOK_NAMES = {
    "CN": _l("China (CN)"),
    "US_REG_F": _l("United States, Regulation F (US_REG_F)"),
}


# Purposes of messages that have no template (portal/messaging/purposes.py has the others).
UNTEMPLATED_PURPOSE_LABELS = {
    "collection_call": _l("Collection call"),
    "support_reply": _l("Support reply by text"),  # portal/support/outbound.py
}


def purpose_label(code: str | None) -> str:
    """A message's purpose in words, e.g. ``overdue_stage_1`` -> "Overdue notice (stage 1)"."""
    from portal.messaging.purposes import PURPOSES

    if not code:
        return ""
    if code in PURPOSES:
        return str(PURPOSES[code].label)
    return str(UNTEMPLATED_PURPOSE_LABELS.get(code, code))


def locale_label(code: str | None) -> str:
    """A language code in words, each language named in itself: ``en`` -> "English"."""
    from portal.i18n import LANGUAGE_NAMES

    return LANGUAGE_NAMES.get(code or "", code or "—")


def label(table: dict, code: str | None) -> str:
    """The translated label of ``code`` in ``table``, or the code itself if it has none."""
    if code is None:
        return ""
    return str(table.get(code, code))
