"""Words for the codes shown on the collector's pages: call outcomes, reasons, guard rules.

Lazily translated, so each page shows them in the reader's language. ``label`` falls back to
the code itself, so an unknown code is shown rather than hidden.
"""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from portal.collections.models import (
    ArrearsReason,
    CaseStatus,
    LegalStatus,
    PromiseStatus,
    Willingness,
)
from portal.messaging.emergency_contacts.services import RELATIONSHIPS
from portal.messaging.models import CallOutcome
from portal.messaging.staff import labels as messaging_labels

MESSAGE_STATUS_LABELS = messaging_labels.STATUS_LABELS
RELATIONSHIP_LABELS = RELATIONSHIPS

CASE_STATUS_LABELS = {
    CaseStatus.OPEN.value: _l("Open"),
    CaseStatus.CURED.value: _l("Cured (paid up)"),
    CaseStatus.CLOSED.value: _l("Closed"),
}
LEGAL_STATUS_LABELS = {
    LegalStatus.NONE.value: _l("Not escalated"),
    LegalStatus.REQUESTED.value: _l("Legal approval requested"),
    LegalStatus.APPROVED.value: _l("Legal approved"),
    LegalStatus.REJECTED.value: _l("Legal rejected"),
}
LEGAL_DECISION_LABELS = {"approved": _l("approved"), "rejected": _l("rejected")}

CALL_OUTCOME_LABELS = {
    CallOutcome.CONNECTED.value: _l("Reached the borrower"),
    CallOutcome.NO_ANSWER.value: _l("No answer"),
    CallOutcome.WRONG_NUMBER.value: _l("Wrong number"),
    CallOutcome.REFUSED.value: _l("Refused to talk or pay"),
    CallOutcome.PROMISE_TO_PAY.value: _l("Promise to pay"),
}
ARREARS_REASON_LABELS = {
    ArrearsReason.ILLNESS.value: _l("Illness"),
    ArrearsReason.JOB_LOSS.value: _l("Lost their job"),
    ArrearsReason.INCOME_DROP.value: _l("Income dropped"),
    ArrearsReason.BUSINESS_FAILURE.value: _l("Business failed"),
    ArrearsReason.FAMILY_EMERGENCY.value: _l("Family emergency"),
    ArrearsReason.OVER_INDEBTED.value: _l("Too many debts"),
    ArrearsReason.DISPUTE.value: _l("Disputes the debt"),
    ArrearsReason.FORGOT.value: _l("Forgot to pay"),
    ArrearsReason.OTHER.value: _l("Other"),
}
WILLINGNESS_LABELS = {
    Willingness.WILLING.value: _l("Willing to pay"),
    Willingness.PARTLY.value: _l("Partly willing"),
    Willingness.UNWILLING.value: _l("Unwilling"),
    Willingness.UNKNOWN.value: _l("Not known yet"),
}
PROMISE_STATUS_LABELS = {
    PromiseStatus.PENDING.value: _l("Pending"),
    PromiseStatus.KEPT.value: _l("Kept"),
    PromiseStatus.BROKEN.value: _l("Broken"),
}
MESSAGE_PURPOSES = ("overdue_stage_1", "overdue_stage_2", "overdue_stage_3")
MESSAGE_CHANNEL_LABELS = {
    "portal": _l("Portal notice"),
    "email": _l("Email"),
    "sms": _l("Text message"),
}
CONTACT_CHANNEL_LABELS = {**MESSAGE_CHANNEL_LABELS, "phone": _l("Phone call")}
DECISION_LABELS = {
    "send": _l("allowed"),
    "defer": _l("deferred"),
    "block": _l("blocked"),
}
TRANSITION_LABELS = {
    "opened": _l("Case opened"),
    "stage": _l("Stage changed"),
    "cured": _l("Case cured"),
    "closed": _l("Case closed"),
    "escalated": _l("Escalated"),
}
# Why a transition happened, as the run and the legal workflow record it (plain codes, kept
# in the record as written); "overdue 12 dpd" and "12 dpd" are read by transition_reason().
TRANSITION_REASON_LABELS = {
    "paid off": _l("loan paid off"),
    "paid up": _l("arrears paid"),
    "written off": _l("loan written off"),
    "legal approval requested": _l("legal approval requested"),
    "legal approval": _l("legal approval granted"),
}
_DPD_REASON = re.compile(r"^(?:overdue )?(\d+) dpd$")
# The contact-rules guard's rules (portal/messaging/guard.py); parametrised ones by prefix.
RULE_LABELS = {
    "allowed": _l("allowed"),
    "required_notice": _l("required notice"),
    "no_address": _l("no phone number or address on file"),
    "cease_contact": _l("the borrower asked us to stop contacting them"),
    "hold": _l("contact is on hold"),
    "opt_out": _l("the borrower opted out of this channel"),
    "emergency_contact_opt_out": _l("the emergency contact asked us to stop texting them"),
    "third_party_not_allowed": _l("third parties may not be contacted"),
    "third_party_borrower_reachable": _l("the borrower is reachable"),
    "quiet_hours": _l("outside the contact hours"),
    "daily_cap": _l("daily limit for this channel reached"),
    "connected_calls_per_day": _l("daily limit of conversations reached"),
    "dial_attempts_per_day": _l("daily limit of call attempts reached"),
    "after_conversation": _l("quiet days after a conversation"),
    "call_attempts_per_7_days": _l("limit of call attempts in 7 days reached"),
    "content_check": _l("the message contains prohibited wording"),
}
PRIORITY_LABELS = {
    0: _l("Promise due today"),
    1: _l("Callback due"),
    2: _l("Overdue amount"),
}


def label(table: dict, code: str | None) -> str:
    """The translated label of ``code`` in ``table``, or the code itself if it has none."""
    if code is None:
        return ""
    return str(table.get(code, code))


def transition_reason(reason: str | None) -> str:
    """A transition's recorded reason in the reader's words, e.g. "12 dpd" -> 逾期 12 天."""
    if not reason:
        return ""
    dpd = _DPD_REASON.match(reason)
    if dpd:
        days = int(dpd.group(1))
        return ngettext("%(days)s day past due", "%(days)s days past due", days, days=days)
    return label(TRANSITION_REASON_LABELS, reason)


def rule_label(rule: str | None) -> str:
    """A guard rule in words, e.g. ``opt_out:sms`` -> "the borrower opted out of this channel"."""
    if not rule:
        return ""
    return str(RULE_LABELS.get(rule, RULE_LABELS.get(rule.split(":", 1)[0], rule)))
