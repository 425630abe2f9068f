"""Words for payments' codes shown to people (the reconciliation page's attempt statuses)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.payments.models import AttemptStatus

ATTEMPT_STATUS_LABELS = {
    AttemptStatus.OPEN.value: _l("Waiting for the borrower"),
    AttemptStatus.PROCESSING.value: _l("Waiting for the payment service"),
    AttemptStatus.SUCCEEDED.value: _l("Booked"),
    AttemptStatus.CANCELED.value: _l("Canceled"),
    AttemptStatus.NEEDS_REVIEW.value: _l("Needs review"),
}


def attempt_status_label(code: str | None) -> str:
    """The words for an attempt's status; an unknown code is shown as itself."""
    if code is None:
        return "—"
    return str(ATTEMPT_STATUS_LABELS.get(code, code))
