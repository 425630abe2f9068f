"""Complaint categories, statuses, remedies and causes in words (never the stored codes).

Borrowers see statuses in their own words (``BORROWER_STATUS_LABELS``); staff see the
lifecycle's names.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.auth.labels import ROLE_LABELS
from portal.collections.labels import CASE_STATUS_LABELS
from portal.complaints.clocks import SlaState
from portal.complaints.models import (
    ComplaintCategory as C,
)
from portal.complaints.models import (
    ComplaintChannel,
    ComplaintStatus,
    EventKind,
    Remedy,
    RootCause,
)

S = ComplaintStatus

CATEGORY_LABELS = {
    C.COLLECTION_CONDUCT.value: _l("How we collected (calls, messages, behaviour)"),
    C.AMOUNT_DISPUTE.value: _l("An amount or fee I disagree with"),
    C.PAYMENT_NOT_CREDITED.value: _l("A payment not credited"),
    C.PRIVACY.value: _l("My personal information"),
    C.INSTALLMENT_PLAN.value: _l("An installment plan"),
    C.SERVICE_QUALITY.value: _l("Our service"),
    C.OTHER.value: _l("Something else"),
}
BORROWER_STATUS_LABELS = {
    S.SUBMITTED.value: _l("Received"),
    S.ACKNOWLEDGED.value: _l("We are looking into it"),
    S.INVESTIGATING.value: _l("We are looking into it"),
    S.AWAITING_BORROWER.value: _l("We need something from you"),
    S.RESOLVED.value: _l("We have answered"),
    S.CLOSED.value: _l("Closed"),
    S.WITHDRAWN.value: _l("Withdrawn by you"),
}
STATUS_LABELS = {
    S.SUBMITTED.value: _l("Submitted"),
    S.ACKNOWLEDGED.value: _l("Acknowledged"),
    S.INVESTIGATING.value: _l("Investigating"),
    S.AWAITING_BORROWER.value: _l("Awaiting borrower"),
    S.RESOLVED.value: _l("Resolved"),
    S.CLOSED.value: _l("Closed"),
    S.WITHDRAWN.value: _l("Withdrawn"),
}
CHANNEL_LABELS = {
    ComplaintChannel.PORTAL.value: _l("Portal"),
    ComplaintChannel.CHAT.value: _l("Chat"),
    ComplaintChannel.PHONE.value: _l("Phone"),
    ComplaintChannel.EMAIL.value: _l("Email"),
    ComplaintChannel.LETTER.value: _l("Letter"),
}
REMEDY_LABELS = {
    Remedy.NONE.value: _l("No remedy"),
    Remedy.APOLOGY.value: _l("Apology"),
    Remedy.RECORD_CORRECTION.value: _l("Record corrected"),
    Remedy.WAIVER.value: _l("Charges waived"),
}
ROOT_CAUSE_LABELS = {
    RootCause.STAFF_CONDUCT.value: _l("Staff conduct"),
    RootCause.PROCESS_ERROR.value: _l("Process error"),
    RootCause.SYSTEM_ERROR.value: _l("System error"),
    RootCause.POLICY.value: _l("Policy"),
    RootCause.COMMUNICATION.value: _l("Communication"),
    RootCause.THIRD_PARTY.value: _l("Third party"),
    RootCause.NO_FAULT.value: _l("No fault found"),
}
SLA_LABELS = {
    SlaState.ON_TRACK.value: _l("On track"),
    SlaState.DUE_SOON.value: _l("Due soon"),
    SlaState.OVERDUE.value: _l("Overdue"),
    SlaState.MET.value: _l("Answered in time"),
    SlaState.BREACHED.value: _l("Answered late"),
}
EVENT_LABELS = {
    EventKind.FILED.value: _l("Complaint filed"),
    EventKind.REPLY.value: _l("Reply from us"),
    EventKind.BORROWER_REPLY.value: _l("Message from the borrower"),
    EventKind.NOTE.value: _l("Internal note"),
    EventKind.STATUS.value: _l("Status changed"),
    EventKind.ASSIGNED.value: _l("Assigned"),
    EventKind.ESCALATED.value: _l("Escalated"),
    EventKind.EXTENDED.value: _l("Deadline extended"),
    EventKind.EVIDENCE.value: _l("Files added"),
}


class ComplaintLabels:
    """The tables together, for templates (``complaint_labels.categories[...]``)."""

    categories = CATEGORY_LABELS
    borrower_statuses = BORROWER_STATUS_LABELS
    statuses = STATUS_LABELS
    channels = CHANNEL_LABELS
    remedies = REMEDY_LABELS
    root_causes = ROOT_CAUSE_LABELS
    sla = SLA_LABELS
    events = EVENT_LABELS
    case_statuses = CASE_STATUS_LABELS
    roles = ROLE_LABELS


COMPLAINT_LABELS = ComplaintLabels()
