"""Words for every code that collections shows: statuses, outcomes, reasons, rules, stages, buckets.

The one home of collections' vocabulary: templates (through the ``labels`` context global),
exports and emails take their words from here. Lazily translated, so each page shows them in
the reader's language. ``label`` falls back to the code itself, so an unknown code is shown
rather than hidden.

A stage is named by its number and name (``stage_label(3)`` -> "3 · Follow-up"), a bucket by
its range of days past due (``bucket_label("31-60")`` -> "31–60 days"); the queue, case page,
reports, strategy page, staff home and CSV all use these two functions.
"""

from __future__ import annotations

import re

from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l

from portal.collections.models import (
    ArrearsReason,
    CaseStatus,
    LegalStatus,
    PromiseStatus,
    Willingness,
)
from portal.loans.charges import labels as charge_labels
from portal.messaging import labels as messaging_labels
from portal.messaging.models import CallOutcome, HoldReason

label = messaging_labels.label  # one lookup for every table, collections' and messaging's
MESSAGE_STATUS_LABELS = messaging_labels.STATUS_LABELS
CANCEL_REASON_LABELS = messaging_labels.CANCEL_REASON_LABELS
RELATIONSHIP_LABELS = messaging_labels.RELATIONSHIP_LABELS
COMPONENT_LABELS = charge_labels.COMPONENT_LABELS  # the loan's words, shown on the case
ADJUSTMENT_KIND_LABELS = charge_labels.ADJUSTMENT_KIND_LABELS

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
LEGAL_DECISION_LABELS = {"approved": _l("Approved"), "rejected": _l("Rejected")}
# An agency placement's status: the system writes these two; the agency's updates are typed.
AGENCY_STATUS_LABELS = {"placed": _l("Placed"), "recalled": _l("Recalled")}

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
CONTACT_CHANNEL_LABELS = messaging_labels.CHANNEL_LABELS
MESSAGE_CHANNEL_LABELS = {k: v for k, v in CONTACT_CHANNEL_LABELS.items() if k != "phone"}
HOLD_REASON_LABELS = {
    HoldReason.DISPUTE.value: _l("Dispute"),
    HoldReason.COMPLAINT.value: _l("Complaint"),
    HoldReason.HARDSHIP_REVIEW.value: _l("Hardship review"),
}
# The documents a legal request's evidence bundle holds (portal/collections/legal/evidence.py).
EVIDENCE_ITEM_LABELS = {
    "loan_agreement": _l("Loan agreement and consent record"),
    "statement_of_account": _l("Statement of account"),
    "contact_history": _l("Notices and contact attempts"),
    "audit_chain": _l("Audit log verification"),
}
STAGE_LABELS = {
    1: _l("Overdue confirmed"),
    2: _l("First contact"),
    3: _l("Follow-up"),
    4: _l("Legal"),
}
_BUCKET_RANGE = re.compile(r"^(\d+)\s*[-–]\s*(\d+)$")
_BUCKET_OPEN = re.compile(r"^(\d+)\s*\+$")
DECISION_LABELS = {
    "send": _l("allowed"),
    "defer": _l("deferred"),
    "block": _l("blocked"),
}
TRANSITION_LABELS = {
    "opened": _l("Case opened"),
    "stage": _l("Stage changed"),
    "cured": _l("Case cured"),
    "reopened": _l("Case reopened"),
    "closed": _l("Case closed"),
    "escalated": _l("Escalated"),
    "plan": _l("In a repayment plan"),
    "plan_broken": _l("Repayment plan broken"),
    "plan_completed": _l("Repayment plan completed"),
}
# Why a transition happened, as the run and the legal workflow record it (plain codes, kept
# in the record as written); "overdue 12 dpd" and "12 dpd" are read by transition_reason().
TRANSITION_REASON_LABELS = {
    "paid off": _l("loan paid off"),
    "paid up": _l("arrears paid"),
    "written off": _l("loan written off"),
    "payment reversed": _l("a payment was refunded"),
    "legal approval requested": _l("legal approval requested"),
    "legal approval": _l("legal approval granted"),
    "plan started": _l("the borrower's repayment plan started"),
    "missed plan payment": _l("a plan payment was missed"),
    "plan completed": _l("every plan payment was made"),
}
_DPD_REASON = re.compile(r"^(?:overdue )?(\d+) dpd$")
# The contact-rules guard's rules (portal/messaging/guard.py); parametrised ones by prefix.
RULE_LABELS = {
    "allowed": _l("allowed"),
    "required_notice": _l("required notice"),
    "no_address": _l("no phone number or address on file"),
    "cease_contact": _l("the borrower asked us to stop contacting them"),
    "hold": _l("contact is on hold"),
    "in_plan": _l("the loan is in a repayment plan: only plan reminders go"),
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
# A case without a contact (portal/collections/metrics.py): the same words on every page.
NEVER_CONTACTED = _l("Never contacted")
PRIORITY_LABELS = {
    0: _l("Promise due today"),
    1: _l("Callback due"),
    2: _l("Overdue amount"),
}


def stage_label(number: int | None) -> str:
    """``"2 · First contact"``, in the reader's language; an unknown number is shown as itself."""
    if number is None:
        return ""
    name = STAGE_LABELS.get(number)
    return f"{number} · {name}" if name is not None else str(number)


def bucket_label(name: str | None) -> str:
    """A bucket by its range of days past due: ``"31-60"`` -> "31–60 days", ``"180+"`` ->
    "180+ days", ``"current"`` -> "Not overdue"; a name in another shape is shown as written."""
    if not name:
        return ""
    if name == "current":
        return gettext("Not overdue")
    closed = _BUCKET_RANGE.match(name)
    if closed:
        return gettext("%(low)s–%(high)s days", low=closed.group(1), high=closed.group(2))
    open_ended = _BUCKET_OPEN.match(name)
    if open_ended:
        return gettext("%(low)s+ days", low=open_ended.group(1))
    return name


def transition_reason(reason: str | None) -> str:
    """A transition's recorded reason in the reader's words, e.g. "12 dpd" -> 逾期 12 天."""
    if not reason:
        return ""
    dpd = _DPD_REASON.match(reason)
    if dpd:
        days = int(dpd.group(1))
        return ngettext("%(days)s day past due", "%(days)s days past due", days, days=days)
    return label(TRANSITION_REASON_LABELS, reason)


def rulebook_version_label(version: int | None) -> str:
    """A contact-rules version as staff read it: 0 is the built-in rules nobody edited yet."""
    if not version:
        return gettext("built-in rules")
    return gettext("version %(version)s", version=version)


def rule_label(rule: str | None) -> str:
    """A guard rule in words, e.g. ``opt_out:sms`` -> "the borrower opted out of this channel"."""
    if not rule:
        return ""
    return str(RULE_LABELS.get(rule, RULE_LABELS.get(rule.split(":", 1)[0], rule)))
