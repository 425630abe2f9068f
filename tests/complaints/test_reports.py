"""Complaint reports: the figures for a few complaints, admins only, dates refused with a message,
the CSV of the by-category table, and the page in Chinese."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from portal.auth.models import Role
from portal.complaints.models import (
    Complaint,
    ComplaintCategory,
    ComplaintChannel,
    RootCause,
)
from portal.complaints.reports import Period, complaint_report, default_period
from portal.extensions import db
from tests.collections.conftest import NOW
from tests.complaints.conftest import file
from tests.conftest import login, page_text

DAY = timedelta(days=1)
PERIOD = Period(date(2026, 11, 1), date(2026, 11, 30))
QUERY = "?from=2026-11-01&to=2026-11-30"


def _handled(complaint: Complaint, *, acknowledged: float | None, resolved: float | None):
    """Acknowledged and resolved so many days after receipt (None: not yet)."""
    received = complaint.received_at
    complaint.acknowledged_at = None if acknowledged is None else received + acknowledged * DAY
    complaint.resolved_at = None if resolved is None else received + resolved * DAY


def _few_complaints(world) -> None:
    """Three complaints in November and one in October (outside the period)."""
    on_time = file(world, ComplaintCategory.COLLECTION_CONDUCT, received_at=NOW - 10 * DAY)
    _handled(on_time, acknowledged=0.5, resolved=5)
    on_time.root_cause = RootCause.STAFF_CONDUCT
    on_time.remedy_minor, on_time.remedy_currency = 20_000, "CNY"

    late = file(world, ComplaintCategory.COLLECTION_CONDUCT, received_at=NOW - 20 * DAY)
    _handled(late, acknowledged=3, resolved=40)  # past both deadlines
    late.channel = ComplaintChannel.PHONE
    late.root_cause = RootCause.STAFF_CONDUCT
    late.remedy_minor, late.remedy_currency = 5_050, "CNY"

    waiting = file(world, ComplaintCategory.PRIVACY, received_at=NOW - 2 * DAY)
    _handled(waiting, acknowledged=1.5, resolved=None)
    waiting.root_cause = RootCause.SYSTEM_ERROR

    october = file(world, ComplaintCategory.OTHER, received_at=NOW - 60 * DAY)
    _handled(october, acknowledged=9, resolved=90)
    db.session.commit()


def test_figures_for_a_few_complaints(app_ctx, world):
    _few_complaints(world)
    report = complaint_report(PERIOD, timezone="Asia/Shanghai", now=NOW)

    by_category = {v.key: v for v in report.by_category}
    assert set(by_category) == {"collection_conduct", "privacy"}
    conduct = by_category["collection_conduct"]
    assert (conduct.complaints, conduct.acknowledged_late, conduct.resolved_late) == (2, 1, 1)
    privacy = by_category["privacy"]
    # Acknowledged within a business day's deadline or not: its own due column decides.
    assert (privacy.complaints, privacy.acknowledged_late, privacy.resolved_late) == (1, 0, 0)
    assert report.total.complaints == 3

    by_channel = {v.key: v.complaints for v in report.by_channel}
    assert by_channel == {"portal": 2, "phone": 1}
    assert report.by_root_cause == [("staff_conduct", 2), ("system_error", 1)]
    assert report.remedies == {"CNY": 25_050}
    assert report.median_days_to_acknowledge == pytest.approx(1.5)
    assert report.median_days_to_resolve == pytest.approx((5 + 40) / 2)
    assert report.active_loans == 1
    assert report.per_thousand_loans == pytest.approx(3000)


def test_late_counts_the_unanswered_past_their_deadline(app_ctx, world):
    file(world, ComplaintCategory.OTHER, received_at=NOW - 20 * DAY)
    db.session.commit()
    before = complaint_report(PERIOD, timezone="Asia/Shanghai", now=NOW - 20 * DAY)
    after = complaint_report(PERIOD, timezone="Asia/Shanghai", now=NOW)
    assert (before.total.acknowledged_late, before.total.resolved_late) == (0, 0)
    assert (after.total.acknowledged_late, after.total.resolved_late) == (1, 1)
    assert after.median_days_to_acknowledge is None


def test_default_period_is_the_last_90_days():
    assert default_period(date(2026, 12, 1)) == Period(date(2026, 9, 3), date(2026, 12, 1))


@pytest.fixture
def admin_client(client, make_user):
    login(client, make_user(Role.ADMIN, locale="en"))
    return client


def test_page_shows_the_figures_in_words(app, admin_client, world):
    with app.app_context():
        _few_complaints(world)
    response = admin_client.get("/staff/complaints/reports/" + QUERY)
    assert response.status_code == 200
    text = page_text(response)
    assert "How we collected (calls, messages, behaviour)" in text
    assert "collection_conduct" not in text
    assert "Staff conduct" in text
    assert "Phone" in text
    assert "250.50" in text  # the remedies, through the money filter
    assert 'id="complaint-report-data"' in response.get_data(as_text=True)


def test_empty_period_says_what_to_do(admin_client):
    response = admin_client.get("/staff/complaints/reports/")
    assert response.status_code == 200
    assert "No complaints were received in this period." in page_text(response)
    assert "complaint-report-data" not in response.get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.AGENT, Role.COLLECTOR, Role.BORROWER])
def test_only_admins_see_reports(client, make_user, role):
    login(client, make_user(role, locale="en"))
    assert client.get("/staff/complaints/reports/").status_code == 403
    assert client.get("/staff/complaints/reports/categories.csv").status_code == 403


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?from=2026-02-30", "from"),
        ("?to=yesterday", "to"),
        ("?from=2026-11-30&to=2026-11-01", "to"),
    ],
)
def test_bad_dates_are_refused_with_a_message(admin_client, query, field):
    for url in ("/staff/complaints/reports/", "/staff/complaints/reports/categories.csv"):
        response = admin_client.get(url + query)
        assert response.status_code == 400
        assert response.mimetype == "text/html"
        html = response.get_data(as_text=True)
        assert f'data-testid="error-{field}"' in html
        assert "Please correct the dates to see the report." in page_text(response)


def test_csv_of_the_table_by_category(app, admin_client, world):
    with app.app_context():
        _few_complaints(world)
    response = admin_client.get("/staff/complaints/reports/categories.csv" + QUERY)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "2026-11-01-2026-11-30" in response.headers["Content-Disposition"]
    lines = response.get_data().decode("utf-8-sig").split("\r\n")
    assert lines[0] == "Category,Complaints,Acknowledged late,Resolved late"
    assert lines[1] == '"How we collected (calls, messages, behaviour)",2,1,1'
    assert lines[2] == "My personal information,1,0,0"
    assert lines[3:] == [""]


def test_page_in_chinese(app, client, make_user, world):
    with app.app_context():
        _few_complaints(world)
    login(client, make_user(Role.ADMIN, locale="zh_Hans_CN"))
    text = page_text(client.get("/staff/complaints/reports/" + QUERY))
    assert "投诉报告" in text
    assert "Complaint reports" not in text
    assert "Acknowledged late" not in text


def test_queue_links_to_reports_for_admins(admin_client):
    html = admin_client.get("/staff/complaints/").get_data(as_text=True)
    assert 'href="/staff/complaints/reports/"' in html
