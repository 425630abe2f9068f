"""The complaint lifecycle as a table: only the transitions listed here happen.

submitted -> acknowledged -> investigating <-> awaiting_borrower -> resolved -> closed; a
resolved or closed complaint may be reopened within a window after its resolution; the borrower
may withdraw while it is open; escalation (to a supervisor) keeps the status and is allowed only
while it is open. Pure: services apply the result and record it.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l

from portal.complaints.models import ComplaintStatus as S
from portal.domain import DomainError


class Action(enum.StrEnum):
    ACKNOWLEDGE = "acknowledge"
    INVESTIGATE = "investigate"
    REQUEST_INFO = "request_info"
    BORROWER_REPLY = "borrower_reply"
    RESOLVE = "resolve"
    CLOSE = "close"
    REOPEN = "reopen"
    WITHDRAW = "withdraw"


TRANSITIONS: dict[tuple[S, Action], S] = {
    (S.SUBMITTED, Action.ACKNOWLEDGE): S.ACKNOWLEDGED,
    (S.SUBMITTED, Action.WITHDRAW): S.WITHDRAWN,
    (S.ACKNOWLEDGED, Action.INVESTIGATE): S.INVESTIGATING,
    (S.ACKNOWLEDGED, Action.REQUEST_INFO): S.AWAITING_BORROWER,
    (S.ACKNOWLEDGED, Action.RESOLVE): S.RESOLVED,
    (S.ACKNOWLEDGED, Action.WITHDRAW): S.WITHDRAWN,
    (S.INVESTIGATING, Action.REQUEST_INFO): S.AWAITING_BORROWER,
    (S.INVESTIGATING, Action.RESOLVE): S.RESOLVED,
    (S.INVESTIGATING, Action.WITHDRAW): S.WITHDRAWN,
    (S.AWAITING_BORROWER, Action.BORROWER_REPLY): S.INVESTIGATING,
    (S.AWAITING_BORROWER, Action.INVESTIGATE): S.INVESTIGATING,
    (S.AWAITING_BORROWER, Action.RESOLVE): S.RESOLVED,
    (S.AWAITING_BORROWER, Action.WITHDRAW): S.WITHDRAWN,
    (S.RESOLVED, Action.CLOSE): S.CLOSED,
    (S.RESOLVED, Action.REOPEN): S.INVESTIGATING,
    (S.CLOSED, Action.REOPEN): S.INVESTIGATING,
}
OPEN_STATUSES = frozenset({S.SUBMITTED, S.ACKNOWLEDGED, S.INVESTIGATING, S.AWAITING_BORROWER})
ANSWERED_STATUSES = frozenset({S.RESOLVED, S.CLOSED, S.WITHDRAWN})


class TransitionRefused(DomainError):
    status_code = 409
    message = _l("This step is not possible in the complaint's current status.")


class ReopenWindowPassed(TransitionRefused):
    message = _l(
        "This complaint was resolved too long ago to be reopened. Please file a new complaint."
    )


class NotOpen(TransitionRefused):
    message = _l("This complaint is no longer open.")


def next_status(
    status: S,
    action: Action,
    *,
    resolved_at: datetime | None = None,
    now: datetime | None = None,
    reopen_window: timedelta = timedelta(days=30),
) -> S:
    """The status ``action`` leads to from ``status``; TransitionRefused if not allowed, and
    ReopenWindowPassed for a reopening after ``reopen_window`` from the resolution."""
    target = TRANSITIONS.get((status, action))
    if target is None:
        raise TransitionRefused()
    if action is Action.REOPEN:
        if resolved_at is None or now is None or now - resolved_at > reopen_window:
            raise ReopenWindowPassed()
    return target


def allowed_actions(status: S) -> frozenset[Action]:
    """The actions the table allows from ``status`` (the reopen window aside)."""
    return frozenset(action for (source, action) in TRANSITIONS if source is status)


def may_escalate(status: S, escalated: bool) -> bool:
    """Escalation: once, while the complaint is open."""
    return status in OPEN_STATUSES and not escalated
