"""Hardship reasons, statuses and decisions in words (never the stored codes)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.hardship.models import HardshipDecision, HardshipReason, HardshipStatus

REASON_LABELS = {
    HardshipReason.ILLNESS.value: _l("Illness or injury"),
    HardshipReason.JOB_LOSS.value: _l("Loss of job"),
    HardshipReason.REDUCED_INCOME.value: _l("Reduced income"),
    HardshipReason.FAMILY_EMERGENCY.value: _l("Family emergency"),
    HardshipReason.OTHER.value: _l("Other"),
}
STATUS_LABELS = {
    HardshipStatus.PENDING.value: _l("Under review"),
    HardshipStatus.DECIDED.value: _l("Decided"),
}
DECISION_LABELS = {
    HardshipDecision.PAUSE.value: _l("Collection paused"),
    HardshipDecision.WAIVER.value: _l("Charges waived"),
    HardshipDecision.PLAN.value: _l("Referred to a repayment plan"),
    HardshipDecision.NO_CHANGE.value: _l("No change"),
}


class HardshipLabels:
    """The three tables together, for templates (``hardship_labels.reasons[...]``)."""

    reasons = REASON_LABELS
    statuses = STATUS_LABELS
    decisions = DECISION_LABELS


HARDSHIP_LABELS = HardshipLabels()
