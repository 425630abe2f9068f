"""Message log: the outbox for staff, newest first, filtered, paginated, with a status chart."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta

import pytest

from portal.auth.models import Channel, Role
from portal.extensions import db
from portal.messaging.models import ContactKind, Message, MessageStatus
from portal.messaging.templates import latest_version
from portal.timeutil import utcnow
from tests.conftest import count_queries, login, page_text

URL = "/staff/messaging/messages"


@pytest.fixture
def staff(client, make_user):
    login(client, make_user(Role.COLLECTOR, locale="en", name="Cole Collector"))
    return client


@pytest.fixture
def add_messages(app):
    """Insert outbox rows for a borrower, one minute apart going back from ``start``."""

    def factory(borrower_id: int, count: int = 1, *, start=None, **fields) -> None:
        start = start or utcnow()
        with app.app_context():
            for number in range(count):
                values = {
                    "idempotency_key": uuid.uuid4().hex,
                    "borrower_id": borrower_id,
                    "purpose": "due_today",
                    "kind": ContactKind.REMINDER,
                    "channel": Channel.SMS,
                    "locale": "en",
                    "status": MessageStatus.SENT,
                    "not_before": start,
                    "created_at": start - timedelta(minutes=number),
                    **fields,
                }
                db.session.add(Message(**values))
            db.session.commit()

    return factory


def _rows(response) -> list[str]:
    html = response.get_data(as_text=True)
    return re.findall(r'<tr data-testid="message-row">(.*?)</tr>', html, re.S)


def _text(row_html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row_html))


def _chart(response) -> dict:
    html = response.get_data(as_text=True)
    match = re.search(r'<script id="status-data" type="application/json">(.*?)</script>', html)
    assert match, "no chart data"
    return json.loads(match.group(1))


@pytest.mark.parametrize("role", [Role.AGENT, Role.COLLECTOR, Role.ADMIN])
def test_every_staff_role_reads_the_log(client, make_user, role):
    """Agents, collectors and admins all see the message log."""
    login(client, make_user(role, locale="en"))
    response = client.get(URL)
    assert response.status_code == 200
    assert "No messages yet" in page_text(response)


def test_borrowers_cannot_read_the_log(client, make_user):
    """The outbox is for staff only."""
    login(client, make_user(Role.BORROWER, locale="en"))
    assert client.get(URL).status_code == 403


def test_rows_show_the_message_details_newest_first(
    app, staff, make_user, add_messages, templates_installed
):
    """Each row has time, borrower, purpose, channel, status, rule or deferral and version."""
    wang = make_user(Role.BORROWER, name="Wang Fang")
    li = make_user(Role.BORROWER, name="Li Na")
    now = utcnow()
    with app.app_context():
        version = latest_version("due_today", Channel.SMS, "en")
        assert version is not None
        version_id = version.id
    add_messages(wang.id, start=now - timedelta(hours=3), template_version_id=version_id)
    add_messages(
        li.id,
        start=now - timedelta(hours=2),
        status=MessageStatus.BLOCKED,
        blocked_rule="opt_out:sms",
        purpose="overdue_stage_1",
        kind=ContactKind.COLLECTION,
    )
    add_messages(
        wang.id,
        start=now - timedelta(hours=1),
        status=MessageStatus.QUEUED,
        not_before=now + timedelta(hours=10),
        channel=Channel.EMAIL,
    )
    add_messages(
        li.id,
        start=now - timedelta(minutes=30),
        status=MessageStatus.FAILED,
        last_error="SMTP 451 <try later>",
        not_before=now - timedelta(minutes=1),
    )
    rows = _rows(staff.get(URL))
    assert len(rows) == 4
    failed, deferred, blocked, sent = (_text(row) for row in rows)
    assert "Li Na" in failed
    assert "Failed, will retry" in failed
    assert "SMTP 451 &lt;try later&gt;" in rows[0]
    assert "Not before" not in failed
    assert "Wang Fang" in deferred
    assert "Email" in deferred
    assert "Not before" in deferred
    assert "Blocked" in blocked
    assert "opt_out:sms" in blocked
    assert "Overdue notice, stage 1" in blocked
    assert "Sent" in sent
    assert "Due today" in sent
    assert "v1" in sent
    assert "Text message" in sent
    assert "text-bg-danger" in rows[2]  # the blocked badge


def test_filters_narrow_the_log_and_bad_values_are_ignored(staff, make_user, add_messages):
    """Status, channel and purpose filter exactly; an unknown value filters nothing."""
    borrower = make_user(Role.BORROWER, name="Wang Fang")
    add_messages(borrower.id, 2)
    add_messages(borrower.id, 3, status=MessageStatus.BLOCKED, blocked_rule="cease_contact")
    add_messages(borrower.id, 1, channel=Channel.EMAIL, purpose="payment_receipt")
    assert len(_rows(staff.get(f"{URL}?status=blocked"))) == 3
    assert len(_rows(staff.get(f"{URL}?channel=email"))) == 1
    assert len(_rows(staff.get(f"{URL}?purpose=due_today&status=sent"))) == 2
    assert len(_rows(staff.get(f"{URL}?status=bogus"))) == 6
    empty = staff.get(f"{URL}?status=dead")
    assert _rows(empty) == []
    assert "No messages match these filters" in page_text(empty)


def test_pages_hold_fifty_and_keep_the_filters(staff, make_user, add_messages):
    """120 messages make three pages of 50, 50 and 20; page links keep the filters."""
    borrower = make_user(Role.BORROWER)
    add_messages(borrower.id, 120)
    add_messages(borrower.id, 1, status=MessageStatus.BLOCKED, blocked_rule="quiet_hours")
    first = staff.get(f"{URL}?status=sent")
    assert len(_rows(first)) == 50
    assert "Page 1 of 3" in page_text(first)
    next_link = re.search(r'href="([^"]+)" data-testid="next-page"', first.get_data(as_text=True))
    assert next_link
    assert "status=sent" in next_link.group(1)
    assert "page=2" in next_link.group(1)
    assert len(_rows(staff.get(f"{URL}?status=sent&page=3"))) == 20
    assert len(_rows(staff.get(f"{URL}?status=sent&page=0"))) == 50  # invalid: first page


def test_chart_counts_the_last_seven_days_by_status(staff, make_user, add_messages):
    """The doughnut's data counts statuses of the last 7 days only."""
    borrower = make_user(Role.BORROWER)
    add_messages(borrower.id, 3)
    add_messages(borrower.id, 2, status=MessageStatus.BLOCKED, blocked_rule="cease_contact")
    add_messages(borrower.id, 4, start=utcnow() - timedelta(days=8))  # too old for the chart
    response = staff.get(URL)
    assert _chart(response) == {
        "labels": ["Sent", "Blocked"],
        "counts": [3, 2],
        "colours": ["#1f5f4a", "#d1495b"],
    }
    assert "chart.umd.min.js" in response.get_data(as_text=True)
    assert "9 messages" in page_text(response)


def test_query_count_does_not_grow_with_rows(
    app, staff, make_user, add_messages, templates_installed
):
    """One message or forty from many borrowers: the page issues the same number of queries."""
    with app.app_context():
        version_ids = [
            latest_version(code, Channel.SMS, "en").id  # type: ignore[union-attr]
            for code in ("due_today", "pre_due_reminder", "overdue_stage_1")
        ]
    first = make_user(Role.BORROWER)
    add_messages(first.id, template_version_id=version_ids[0])
    with_one = count_queries(app, staff, URL)
    for number in range(13):
        borrower = make_user(Role.BORROWER, name=f"Borrower {number}")
        add_messages(
            borrower.id,
            3,
            template_version_id=version_ids[number % 3],
            status=list(MessageStatus)[number % len(MessageStatus)],
        )
    assert len(_rows(staff.get(URL))) == 40
    assert count_queries(app, staff, URL) == with_one


def test_the_pager_links_only_to_pages_that_exist(staff, make_user, add_messages):
    """On the first page "Previous" links nowhere, and on the last page "Next" links nowhere."""
    borrower = make_user(Role.BORROWER)
    add_messages(borrower.id, 60)
    first = staff.get(f"{URL}?status=sent").get_data(as_text=True)
    assert "page=0" not in first
    assert "page=2" in first
    last = staff.get(f"{URL}?status=sent&page=2").get_data(as_text=True)
    assert "page=3" not in last
    assert "page=1" in last


@pytest.mark.parametrize(
    ("locale", "status", "reason"),
    [
        ("en", "Cancelled", "Not sent: the loan is no longer overdue"),
        ("zh_CN", "已取消", "未发送：借款已不再逾期"),
    ],
)
def test_cancelled_messages_say_why_they_were_not_sent(
    app, client, make_user, add_messages, locale, status, reason
):
    """A notice withdrawn because the loan was paid reads so, and the status filter finds it."""
    borrower = make_user(Role.BORROWER, name="Wang Fang")
    add_messages(borrower.id, status=MessageStatus.CANCELLED, cancel_reason="not_overdue")
    add_messages(borrower.id)
    login(client, make_user(Role.COLLECTOR, locale=locale))
    (row,) = _rows(client.get(URL, query_string={"status": "cancelled"}))
    assert status in _text(row)
    assert reason in _text(row)
