"""Promises to pay made by the borrower from the portal: the staff service's rules plus the
borrower's limits (date within PROMISE_MAX_DAYS, amount at least the minimum), the page, its
errors in both languages, and who may reach it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.auth.models import Role, User
from portal.collections.cases.promises import (
    BorrowerPromiseLimits,
    NoOverdueCase,
    PendingPromiseExists,
    PromiseAboveBalance,
    PromiseBelowMinimum,
    PromiseDateInPast,
    PromiseTooFar,
    record_borrower_promise,
)
from portal.collections.models import PromiseStatus, PromiseToPay
from portal.domain import NotFound
from portal.extensions import db
from tests.collections.conftest import NOW, TODAY, make_case
from tests.conftest import csrf_token, login, page_text

LIMITS = BorrowerPromiseLimits(max_days=14, minimum_units=10)


@pytest.fixture
def overdue(app, make_user, make_loan):
    """A borrower with an overdue loan (open case) and a second borrower."""
    borrower = make_user(Role.BORROWER)
    loan_id = make_loan(borrower.id)
    case_id = make_case(app, borrower_id=borrower.id, loan_id=loan_id, assigned_to=None)
    return borrower, loan_id, case_id


def _promise(borrower_id, loan_id, *, amount=5_000, days=3):
    return record_borrower_promise(
        loan_id,
        borrower=db.session.get(User, borrower_id),
        amount_minor=amount,
        promised_on=TODAY + timedelta(days=days),
        now=NOW,
        limits=LIMITS,
    )


def test_a_borrower_promise_is_pending_on_the_case_and_audited(app, overdue):
    borrower, loan_id, case_id = overdue
    with app.app_context():
        promise = _promise(borrower.id, loan_id)
        db.session.commit()
        assert promise.case_id == case_id
        assert promise.status is PromiseStatus.PENDING
        assert promise.created_by == borrower.id
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "case.promise_made_by_borrower")
        )
        assert event is not None
        assert event.actor_id == borrower.id


@pytest.mark.parametrize(
    ("amount", "days", "error"),
    [
        (5_000, -1, PromiseDateInPast),
        (5_000, 15, PromiseTooFar),
        (999, 3, PromiseBelowMinimum),
        (10**9, 3, PromiseAboveBalance),
    ],
)
def test_promises_outside_the_limits_are_refused(app, overdue, amount, days, error):
    borrower, loan_id, _ = overdue
    with app.app_context():
        with pytest.raises(error):
            _promise(borrower.id, loan_id, amount=amount, days=days)
        db.session.rollback()
        assert db.session.scalar(select(PromiseToPay.id)) is None


def test_the_last_day_and_the_minimum_are_allowed(app, overdue):
    borrower, loan_id, _ = overdue
    with app.app_context():
        promise = _promise(borrower.id, loan_id, amount=1_000, days=14)
        assert promise.promised_on == TODAY + timedelta(days=14)


def test_a_second_pending_promise_is_refused(app, overdue):
    borrower, loan_id, _ = overdue
    with app.app_context():
        _promise(borrower.id, loan_id)
        db.session.commit()
        with pytest.raises(PendingPromiseExists):
            _promise(borrower.id, loan_id, days=5)


def test_no_promise_without_an_open_case(app, make_user, make_loan):
    borrower = make_user(Role.BORROWER)
    loan_id = make_loan(borrower.id)
    with app.app_context(), pytest.raises(NoOverdueCase):
        _promise(borrower.id, loan_id)


def test_no_promise_on_another_borrowers_loan(app, overdue, make_user):
    _, loan_id, _ = overdue
    stranger = make_user(Role.BORROWER)
    with app.app_context(), pytest.raises(NotFound):
        _promise(stranger.id, loan_id)


# The page ---------------------------------------------------------------------------------


@pytest.fixture
def frozen(monkeypatch):
    from portal.loans import routes

    monkeypatch.setattr(routes, "utcnow", lambda: NOW)


def _post(client, loan_id, amount, promised_on):
    path = f"/loans/{loan_id}/promise"
    return client.post(
        path,
        data={
            "amount": amount,
            "promised_on": promised_on.isoformat(),
            "csrf_token": csrf_token(client, path),
        },
    )


def test_the_borrower_promises_from_the_page_and_sees_it_pending(client, overdue, frozen):
    borrower, loan_id, _ = overdue
    login(client, borrower)
    page = client.get(f"/loans/{loan_id}")
    assert f"/loans/{loan_id}/promise" in page.get_data(as_text=True)
    response = _post(client, loan_id, "50.00", TODAY + timedelta(days=7))
    assert response.status_code == 302
    text = page_text(client.get(f"/loans/{loan_id}/promise"))
    assert "¥50.00" in text
    assert "待处理" in text


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("en", "The promised date is in the past"), ("zh_CN", "承诺日期")],
)
def test_a_past_date_is_refused_in_the_borrowers_language(
    client, app, make_user, make_loan, frozen, locale, expected
):
    borrower = make_user(Role.BORROWER, locale=locale)
    loan_id = make_loan(borrower.id)
    make_case(app, borrower_id=borrower.id, loan_id=loan_id, assigned_to=None)
    login(client, borrower)
    response = _post(client, loan_id, "50.00", TODAY - timedelta(days=1))
    assert response.status_code == 422
    assert expected in page_text(response)
    with app.app_context():
        assert db.session.scalar(select(PromiseToPay.id)) is None


def test_beyond_the_limit_and_below_the_minimum_are_shown(client, overdue, frozen):
    borrower, loan_id, _ = overdue
    login(client, borrower)
    far = _post(client, loan_id, "50.00", TODAY + timedelta(days=15))
    assert far.status_code == 422
    small = _post(client, loan_id, "0.50", TODAY + timedelta(days=2))
    assert small.status_code == 422


def test_another_borrowers_promise_page_is_not_found(client, overdue, make_user):
    _, loan_id, _ = overdue
    login(client, make_user(Role.BORROWER))
    assert client.get(f"/loans/{loan_id}/promise").status_code == 404


def test_staff_cannot_use_the_borrower_page(client, overdue, make_user):
    _, loan_id, _ = overdue
    login(client, make_user(Role.COLLECTOR))
    assert client.get(f"/loans/{loan_id}/promise").status_code == 403


def test_a_broken_borrower_promise_shows_on_the_timeline_and_the_borrowers_page(
    app, client, overdue, make_user, frozen, monkeypatch
):
    from portal.collections.run.promises import settle_promises
    from tests.collections.conftest import freeze

    borrower, loan_id, case_id = overdue
    with app.app_context():
        _promise(borrower.id, loan_id, days=1)
        db.session.commit()
        settle_promises(TODAY + timedelta(days=2))
    login(client, borrower)
    assert "已违约" in page_text(client.get(f"/loans/{loan_id}/promise"))
    freeze(monkeypatch, NOW + timedelta(days=2))
    staff = app.test_client()
    login(staff, make_user(Role.ADMIN, locale="en"))
    page = staff.get(f"/staff/collections/cases/{case_id}").get_data(as_text=True)
    timeline = page[page.index('data-kind="promise"') :]
    assert 'data-testid="promise-status">Broken<' in timeline
