"""Two collectors on one case at once (PostgreSQL, real threads and connections): the case row
lock (SELECT ... FOR UPDATE) makes their actions queue up, so the rules hold across them."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.auth.models import BorrowerProfile, Channel, Role, User
from portal.collections.cases.actions import CallRefused, log_case_call
from portal.collections.cases.promises import PendingPromiseExists, record_promise
from portal.collections.models import PromiseStatus, PromiseToPay
from portal.extensions import db
from portal.messaging.models import CallOutcome, Message
from tests.collections.conftest import NOW, TODAY, make_case

pytestmark = pytest.mark.postgres
HOLD = 0.4  # seconds each transaction stays open after its action, lock held


@pytest.fixture
def shared_case(app, make_user, make_loan):
    """A case that two collectors may both work (an admin's view: every case), with a phone."""
    borrower = make_user(Role.BORROWER)
    with app.app_context():
        db.session.get(BorrowerProfile, borrower.id).phone = "+8613800138000"
        db.session.commit()
    admins = [make_user(Role.ADMIN), make_user(Role.ADMIN)]
    case_id = make_case(
        app, borrower_id=borrower.id, loan_id=make_loan(borrower.id), assigned_to=None
    )
    return case_id, [admin.id for admin in admins]


def _run_together(app, actions):
    """Run each action in its own thread, app context and connection, started at once; each
    holds its transaction open for HOLD seconds before committing. Returns their results."""
    barrier = threading.Barrier(len(actions))

    def worker(action):
        with app.app_context():
            barrier.wait()
            try:
                action()
                time.sleep(HOLD)
                db.session.commit()
                return "done"
            except (PendingPromiseExists, CallRefused) as error:
                db.session.rollback()
                return type(error).__name__
            finally:
                db.session.remove()

    with ThreadPoolExecutor(len(actions)) as pool:
        return sorted(pool.map(worker, actions))


def _viewer(user_id: int) -> User:
    user = db.session.get(User, user_id)
    assert user is not None
    return user


def test_two_promises_at_once_leave_exactly_one_pending(app, shared_case):
    """Two collectors record a promise on one case at the same moment: one wins, one is told
    a promise is already pending."""
    case_id, (first, second) = shared_case

    def promise(actor_id: int):
        return lambda: record_promise(
            case_id,
            viewer=_viewer(actor_id),
            amount_minor=10_000,
            promised_on=TODAY + timedelta(days=2),
            now=NOW,
        )

    results = _run_together(app, [promise(first), promise(second)])

    assert results == ["PendingPromiseExists", "done"]
    with app.app_context():
        pending = db.session.scalar(
            select(func.count())
            .select_from(PromiseToPay)
            .where(PromiseToPay.case_id == case_id, PromiseToPay.status == PromiseStatus.PENDING)
        )
        assert pending == 1


def test_a_promise_call_and_a_promise_at_once_leave_one_promise_and_no_orphan_call(
    app, shared_case
):
    """A call ending in a promise races a plain promise: one promise; the losing call is not
    kept either (the call and its promise stand or fall together)."""
    case_id, (first, second) = shared_case

    def call():
        log_case_call(
            case_id,
            viewer=_viewer(first),
            outcome=CallOutcome.PROMISE_TO_PAY,
            now=NOW,
            promised_amount=5_000,
            promised_on=TODAY,
        )

    def promise():
        record_promise(
            case_id, viewer=_viewer(second), amount_minor=5_000, promised_on=TODAY, now=NOW
        )

    results = _run_together(app, [call, promise])

    assert results == ["PendingPromiseExists", "done"]
    with app.app_context():
        promises = db.session.scalar(select(func.count()).select_from(PromiseToPay))
        calls = db.session.scalar(
            select(func.count()).select_from(Message).where(Message.channel == Channel.PHONE)
        )
        assert promises == 1
        assert calls in (0, 1)
        if calls == 0:  # the promise won: the call that came with a promise was refused whole
            assert db.session.scalar(select(PromiseToPay.created_by)) == second


def test_concurrent_calls_respect_the_daily_conversation_limit(app, shared_case):
    """The CN rulebook allows 3 conversations a day: of 4 calls logged at once, 3 are kept and
    the fourth is refused, because each guard check waits for the calls before it."""
    case_id, (first, second) = shared_case

    def call(actor_id: int):
        return lambda: log_case_call(
            case_id, viewer=_viewer(actor_id), outcome=CallOutcome.CONNECTED, now=NOW
        )

    results = _run_together(app, [call(first), call(second), call(first), call(second)])

    assert results == ["CallRefused", "done", "done", "done"]
    with app.app_context():
        calls = db.session.scalar(
            select(func.count()).select_from(Message).where(Message.channel == Channel.PHONE)
        )
        assert calls == 3
