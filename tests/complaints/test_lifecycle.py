"""The lifecycle table: only the listed transitions, the reopen window, escalation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from portal.complaints.lifecycle import (
    ANSWERED_STATUSES,
    OPEN_STATUSES,
    TRANSITIONS,
    Action,
    ReopenWindowPassed,
    TransitionRefused,
    allowed_actions,
    may_escalate,
    next_status,
)
from portal.complaints.models import ComplaintStatus as S

NOW = datetime(2026, 11, 20, 9, tzinfo=UTC)
HAPPY_PATH = [
    (Action.ACKNOWLEDGE, S.ACKNOWLEDGED),
    (Action.INVESTIGATE, S.INVESTIGATING),
    (Action.REQUEST_INFO, S.AWAITING_BORROWER),
    (Action.BORROWER_REPLY, S.INVESTIGATING),
    (Action.RESOLVE, S.RESOLVED),
    (Action.CLOSE, S.CLOSED),
]


def test_the_whole_journey():
    """submitted -> acknowledged -> investigating <-> awaiting borrower -> resolved -> closed."""
    status = S.SUBMITTED
    for action, expected in HAPPY_PATH:
        status = next_status(status, action)
        assert status is expected


@pytest.mark.parametrize(("status", "action"), list(product(S, Action)))
def test_only_listed_transitions_happen(status, action):
    """Every (status, action) pair not in the table is refused; listed ones give their target."""
    kwargs = {"resolved_at": NOW, "now": NOW}
    if (status, action) in TRANSITIONS:
        assert next_status(status, action, **kwargs) is TRANSITIONS[(status, action)]
    else:
        with pytest.raises(TransitionRefused):
            next_status(status, action, **kwargs)


def test_nothing_leaves_withdrawn():
    """A withdrawn complaint is final."""
    assert allowed_actions(S.WITHDRAWN) == frozenset()


def test_withdrawal_only_while_open():
    """The borrower withdraws an open complaint, never a resolved or closed one."""
    for status in S:
        assert (Action.WITHDRAW in allowed_actions(status)) == (status in OPEN_STATUSES)


def test_no_resolution_before_acknowledgement():
    """A complaint is acknowledged before it is resolved."""
    with pytest.raises(TransitionRefused):
        next_status(S.SUBMITTED, Action.RESOLVE)


@pytest.mark.parametrize("status", [S.RESOLVED, S.CLOSED])
def test_reopen_within_the_window(status):
    """Reopened within the window (inclusive) back to investigating; refused after it."""
    window = timedelta(days=14)
    resolved = NOW - window
    assert (
        next_status(status, Action.REOPEN, resolved_at=resolved, now=NOW, reopen_window=window)
        is S.INVESTIGATING
    )
    with pytest.raises(ReopenWindowPassed):
        next_status(
            status,
            Action.REOPEN,
            resolved_at=resolved - timedelta(seconds=1),
            now=NOW,
            reopen_window=window,
        )


def test_reopen_without_a_resolution_time_is_refused():
    """No resolution time, no reopening (nothing to measure the window from)."""
    with pytest.raises(ReopenWindowPassed):
        next_status(S.CLOSED, Action.REOPEN, resolved_at=None, now=NOW)


def test_escalation_once_and_only_while_open():
    """Escalate an open complaint once; never an answered one."""
    for status in OPEN_STATUSES:
        assert may_escalate(status, escalated=False)
        assert not may_escalate(status, escalated=True)
    for status in ANSWERED_STATUSES:
        assert not may_escalate(status, escalated=False)
