"""The work queue: priority order with reasons, own cases only, admin filter and reassignment."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.auth.models import Role
from portal.collections.models import (
    CaseStatus,
    CollectionCase,
)
from portal.extensions import db
from portal.messaging.models import PortalSetting
from tests.collections.conftest import NOW, TODAY, freeze, make_case
from tests.conftest import count_queries, csrf_token, login, page_text

QUEUE = "/staff/collections/queue"


def _row_ids(response) -> list[int]:
    return [int(i) for i in re.findall(r'data-case-id="(\d+)"', response.get_data(as_text=True))]


@pytest.fixture
def borrower(make_user):
    return make_user(Role.BORROWER, locale="en", name="Li Lei")


def test_queue_orders_by_priority_and_shows_each_reason(
    app, client, make_user, make_loan, borrower, monkeypatch
):
    """Promise today, due callback, then amount, days past due and oldest contact, in order."""
    freeze(monkeypatch, NOW)
    collector = make_user(Role.COLLECTOR, locale="en")

    def case(own_borrower: bool = False, **kwargs) -> int:
        # A contact is with a person: cases ordered by last contact need borrowers of their own.
        borrower_id = make_user(locale="en", name="Li Lei").id if own_borrower else borrower.id
        loan_id = make_loan(borrower_id)
        return make_case(
            app, borrower_id=borrower_id, loan_id=loan_id, assigned_to=collector.id, **kwargs
        )

    future_callback = case(overdue=300, callback_at=NOW + timedelta(hours=1))
    contact_recent = case(True, overdue=5_000, dpd=20, last_contact_at=NOW - timedelta(days=1))
    contact_old = case(True, overdue=5_000, dpd=20, last_contact_at=NOW - timedelta(days=10))
    never_contacted = case(True, overdue=5_000, dpd=20)
    more_days = case(overdue=5_000, dpd=40)
    biggest = case(overdue=9_000, dpd=5)
    callback = case(overdue=200, callback_at=NOW - timedelta(hours=1))
    promise = case(overdue=100, promise_on=TODAY)
    promise_tomorrow = case(overdue=99_000, promise_on=TODAY + timedelta(days=1))  # by amount
    login(client, collector)

    response = client.get(QUEUE)

    assert response.status_code == 200
    ids = _row_ids(response)
    assert ids == [
        promise,
        callback,
        promise_tomorrow,
        biggest,
        more_days,
        never_contacted,
        contact_old,
        contact_recent,
        future_callback,
    ]
    text = page_text(response)
    assert "Promise due today" in text
    assert "¥50.00 promised for today" in text
    # a pending promise for a later day (e.g. one the borrower made on the portal) shows too
    assert "Promise to pay pending, by Nov 29, 2026" in text
    assert "Callback due" in text
    assert "Never contacted" in text
    assert "last contact 1 day ago" in text


def test_collectors_see_only_their_own_open_cases(app, client, make_user, make_loan, borrower):
    """Another collector's case and a cured case of one's own stay out of the queue."""
    mine, theirs = make_user(Role.COLLECTOR, locale="en"), make_user(Role.COLLECTOR)
    own = make_case(
        app, borrower_id=borrower.id, loan_id=make_loan(borrower.id), assigned_to=mine.id
    )
    make_case(app, borrower_id=borrower.id, loan_id=make_loan(borrower.id), assigned_to=theirs.id)
    make_case(
        app,
        borrower_id=borrower.id,
        loan_id=make_loan(borrower.id),
        assigned_to=mine.id,
        status=CaseStatus.CURED,
    )
    login(client, mine)

    response = client.get(QUEUE)

    assert _row_ids(response) == [own]
    assert "1 open case" in page_text(response)


def test_empty_queue_says_what_to_do_next(client, make_user):
    """With no cases, the page explains that the daily run brings them and how to run it."""
    login(client, make_user(Role.COLLECTOR, locale="en"))

    text = page_text(client.get(QUEUE))

    assert "No open cases assigned to you." in text
    assert "flask --app wsgi collections run" in text


def test_queue_page_is_one_query_whatever_the_number_of_cases(
    app, client, make_user, make_loan, borrower, monkeypatch
):
    """One case or eight (with promises and callbacks), the queue issues the same queries."""
    freeze(monkeypatch, NOW)
    collector = make_user(Role.COLLECTOR, locale="en")
    make_case(
        app, borrower_id=borrower.id, loan_id=make_loan(borrower.id), assigned_to=collector.id
    )
    login(client, collector)
    with_one = count_queries(app, client, QUEUE)
    for number in range(7):
        make_case(
            app,
            borrower_id=borrower.id,
            loan_id=make_loan(borrower.id),
            assigned_to=collector.id,
            promise_on=TODAY if number % 2 else None,
            callback_at=NOW if number % 3 == 0 else None,
        )
    assert count_queries(app, client, QUEUE) == with_one


def test_queue_pages_keep_the_order(app, client, make_user, make_loan, borrower):
    """26 cases: 25 on the first page, the smallest overdue amount alone on the second."""
    collector = make_user(Role.COLLECTOR, locale="en")
    ids = [
        make_case(
            app,
            borrower_id=borrower.id,
            loan_id=make_loan(borrower.id),
            assigned_to=collector.id,
            overdue=1_000 * (number + 1),
        )
        for number in range(26)
    ]
    login(client, collector)

    first, second = client.get(QUEUE), client.get(f"{QUEUE}?page=2")

    assert _row_ids(first) == list(reversed(ids))[:25]
    assert _row_ids(second) == [ids[0]]
    assert "Page 2 of 2" in page_text(second)
    assert _row_ids(client.get(f"{QUEUE}?page=9")) == _row_ids(first)  # past the end: first


def test_admin_sees_everyone_and_filters_by_collector(app, client, make_user, make_loan, borrower):
    """Admins see every open case; the filter narrows to one collector or the unassigned."""
    first, second = make_user(Role.COLLECTOR, name="Zhao"), make_user(Role.COLLECTOR, name="Qian")
    a = make_case(
        app, borrower_id=borrower.id, loan_id=make_loan(borrower.id), assigned_to=first.id
    )
    b = make_case(
        app, borrower_id=borrower.id, loan_id=make_loan(borrower.id), assigned_to=second.id
    )
    c = make_case(app, borrower_id=borrower.id, loan_id=make_loan(borrower.id), assigned_to=None)
    login(client, make_user(Role.ADMIN, locale="en"))

    assert sorted(_row_ids(client.get(QUEUE))) == sorted([a, b, c])
    assert _row_ids(client.get(f"{QUEUE}?collector={second.id}")) == [b]
    assert _row_ids(client.get(f"{QUEUE}?collector=unassigned")) == [c]
    assert _row_ids(client.get(f"{QUEUE}?collector=nonsense")) != []  # ignored, not an error


def test_admin_reassigns_a_case_and_it_is_audited(app, client, make_user, make_loan, borrower):
    """The case moves to the chosen collector; case.reassigned records from whom to whom."""
    first, second = make_user(Role.COLLECTOR), make_user(Role.COLLECTOR)
    case_id = make_case(
        app, borrower_id=borrower.id, loan_id=make_loan(borrower.id), assigned_to=first.id
    )
    admin = make_user(Role.ADMIN, locale="en")
    login(client, admin)

    response = client.post(
        f"/staff/collections/cases/{case_id}/assign",
        data={"collector": second.id, "csrf_token": csrf_token(client, QUEUE), "next": QUEUE},
    )

    assert response.status_code == 303
    assert response.headers["Location"].endswith(QUEUE)
    with app.app_context():
        assert db.session.get(CollectionCase, case_id).assigned_to == second.id
        audit = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "case.reassigned")
        ).one()
        assert (audit.actor_id, audit.object_id) == (admin.id, str(case_id))
        assert audit.details == {"from": first.id, "to": second.id}


def test_reassigning_to_someone_who_is_not_a_collector_is_refused(
    app, client, make_user, make_loan, borrower
):
    """An agent's id is not a valid choice: nothing changes and nothing is audited."""
    collector = make_user(Role.COLLECTOR)
    case_id = make_case(
        app, borrower_id=borrower.id, loan_id=make_loan(borrower.id), assigned_to=collector.id
    )
    agent = make_user(Role.AGENT)
    login(client, make_user(Role.ADMIN, locale="en"))

    response = client.post(
        f"/staff/collections/cases/{case_id}/assign",
        data={"collector": agent.id, "csrf_token": csrf_token(client, QUEUE)},
        follow_redirects=True,
    )

    assert "Choose an active collector." in page_text(response)
    with app.app_context():
        assert db.session.get(CollectionCase, case_id).assigned_to == collector.id
        assert not db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "case.reassigned")
        ).all()


def test_collectors_cannot_reassign(app, client, make_user, make_loan, borrower):
    """Reassignment is for admins: a collector gets 403, even on their own case."""
    collector, other = make_user(Role.COLLECTOR), make_user(Role.COLLECTOR)
    case_id = make_case(
        app, borrower_id=borrower.id, loan_id=make_loan(borrower.id), assigned_to=collector.id
    )
    login(client, collector)

    response = client.post(
        f"/staff/collections/cases/{case_id}/assign",
        data={"collector": other.id, "csrf_token": csrf_token(client, QUEUE)},
    )

    assert response.status_code == 403
    with app.app_context():
        assert db.session.get(CollectionCase, case_id).assigned_to == collector.id


def test_visibility_setting_does_not_widen_the_queue(app, client, make_user, make_loan, borrower):
    """With case_visibility=all collectors may open any case, but their queue stays their own."""
    mine, theirs = make_user(Role.COLLECTOR), make_user(Role.COLLECTOR)
    own = make_case(
        app, borrower_id=borrower.id, loan_id=make_loan(borrower.id), assigned_to=mine.id
    )
    make_case(app, borrower_id=borrower.id, loan_id=make_loan(borrower.id), assigned_to=theirs.id)
    with app.app_context():
        db.session.add(PortalSetting(key="case_visibility", value="all"))
        db.session.commit()
    login(client, mine)

    assert _row_ids(client.get(QUEUE)) == [own]
