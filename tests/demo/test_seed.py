"""The demo seed, run once for the module (it replays 120 days) and then a second time."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from portal import create_app
from portal.auth.models import User
from portal.collections.models import CaseStatus, CollectionCase, CollectionRun
from portal.collections.reports.portfolio import portfolio_dashboard
from portal.collections.strategy.services import current_strategy
from portal.extensions import db
from portal.loans.models import Loan, Payment
from portal.loans.services import loan_position, loans_of_borrower, portfolio_by_bucket
from portal.messaging.emergency_contacts.services import active_contacts
from portal.messaging.models import EmergencyContact
from portal.timeutil import utcnow
from tests.conftest import ON_POSTGRES, _truncate_all, base_config, csrf_token, page_text

URL = "/staff/reports/portfolio"


@dataclass
class Seeded:
    app: Flask
    today: date  # the seed's today: now, as the dashboard pages see it
    first: dict
    second: dict
    rows_after_first: dict[str, int]
    rows_after_second: dict[str, int]


def _rows() -> dict[str, int]:
    tables = [table.name for table in db.metadata.sorted_tables]
    count = "SELECT count(*) FROM {}"
    return {name: db.session.execute(text(count.format(name))).scalar_one() for name in tables}


def _seed(app: Flask) -> dict:
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def seeded(migrated_database, tmp_path_factory):
    """The demo seeded twice for TODAY, on one database shared by the module's tests."""
    url = migrated_database
    if not ON_POSTGRES:
        copy = tmp_path_factory.mktemp("demo") / "demo.db"
        shutil.copy(migrated_database, copy)
        url = f"sqlite:///{copy}"
    app = create_app(base_config(url))
    try:
        first = _seed(app)
        with app.app_context():
            after_first = _rows()
        second = _seed(app)
        with app.app_context():
            after_second = _rows()
            db.session.remove()
        today = date.fromisoformat(first["today"])
        yield Seeded(app, today, first, second, after_first, after_second)
    finally:  # the next module starts from an empty database, even when seeding failed
        if ON_POSTGRES:
            _truncate_all(app)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def ctx(seeded):
    with seeded.app.app_context():
        yield
        db.session.rollback()


def test_seed_twice_changes_nothing(seeded):
    """The second seed creates nothing and leaves every table as the first one left it."""
    assert seeded.first["users_created"] == 54
    assert seeded.first["loans_created"] == 52
    assert seeded.first["payments_created"] > 52
    assert seeded.second == {
        **seeded.first,
        "users_created": 0,
        "loans_created": 0,
        "payments_created": 0,
    }
    assert seeded.rows_after_second == seeded.rows_after_first


def test_seed_spreads_loans_over_every_bucket(seeded, ctx):
    """About 50 borrowers, loans in current and every overdue bucket, partial payments included."""
    edges = current_strategy().bucket_edges
    buckets = {row.bucket: row.loans for row in portfolio_by_bucket(seeded.today, edges)}
    assert set(buckets) == {"current", "1-30", "31-60", "61-90", "91-180", "180+"}
    assert all(buckets[name] >= 8 for name in ("current", "1-30", "31-60", "61-90", "91-180"))
    assert buckets["180+"] == 0  # the demo's oldest arrears are 170 days
    partly_paid = db.session.scalar(
        select(func.count()).select_from(Loan).where(Loan.payments.any())
    )
    assert partly_paid >= 25


def test_demo_borrower_has_one_overdue_and_one_current_loan(seeded, ctx):
    """The demo borrower's dashboard has something to pay and something on schedule."""
    borrower = db.session.scalar(select(User).where(User.email == "borrower@demo.test"))
    positions = [loan_position(loan, seeded.today) for loan in loans_of_borrower(borrower.id)]
    assert sorted(p.is_overdue for p in positions) == [False, True]


def test_some_demo_borrowers_named_an_emergency_contact(seeded, ctx):
    """The case page's emergency-contact card has something to show in the demo."""
    demo = db.session.scalar(select(User).where(User.email == "borrower@demo.test"))
    assert [c.relationship_to_borrower for c in active_contacts(demo.id)] == ["parent"]
    assert db.session.scalar(select(func.count()).select_from(EmergencyContact)) == 17


def test_history_has_a_run_for_every_day_and_payments_on_their_days(seeded, ctx):
    """120 days of daily runs up to today; payments were booked on the days they were made."""
    runs = db.session.scalars(select(CollectionRun.as_of).order_by(CollectionRun.as_of)).all()
    assert runs == [seeded.today - timedelta(days=n) for n in range(120, -1, -1)]
    first_payment = db.session.scalar(select(func.min(Payment.received_at)))
    assert first_payment < utcnow() - timedelta(days=120)
    assert db.session.scalar(select(func.max(Payment.received_at))) < utcnow()


def test_portfolio_dashboard_has_recoveries_cures_promises_and_roll_rates(seeded, ctx):
    """Every rate on the portfolio dashboard has data: the demo is old enough to show them."""
    dashboard = portfolio_dashboard(
        days=90, roll_from=None, today=seeded.today, now=utcnow(), timezone="Asia/Shanghai"
    )
    overall = dashboard.overall
    assert overall.recovered["CNY"] > 0
    assert (overall.cure_rate.value or 0) > 0
    assert overall.kept > 0
    assert overall.broken > 0
    assert overall.contacted > 0
    assert dashboard.roll is not None
    assert sum(dashboard.roll.counts.values()) > 0
    assert len(dashboard.roll_choices) >= 2  # three month ends in the history, at least
    assert sum(1 for _week, amounts in dashboard.recovered_series if amounts) >= 8
    cured = db.session.scalar(select(func.count()).where(CollectionCase.status == CaseStatus.CURED))
    assert cured >= 10


def test_audit_log_of_the_history_verifies(seeded):
    """Calls, promises and payments in the past keep the audit chain intact."""
    result = seeded.app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.splitlines()[-1])["intact"] is True


def test_admin_sees_the_dashboard_with_data(seeded):
    """The admin's portfolio page shows recoveries, a cure rate and roll rates."""
    client = seeded.app.test_client()
    client.post(
        "/login",
        data={"email": "admin@demo.test", "password": "demo1234", "csrf_token": csrf_token(client)},
    )
    response = client.get(URL)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for testid in ("kpi-cure", "kpi-promises", "kpi-contact"):
        assert re.search(rf'data-testid="{testid}"[^>]*>\s*[1-9][0-9.]*%', html), testid
    recovered = re.search(r'data-testid="kpi-recovered"[^>]*>(.*?)</div>', html, re.S)
    assert recovered is not None
    assert re.search(r"¥[1-9]", recovered.group(1)), recovered.group(1)
    assert 'data-testid="roll-matrix"' in html


@pytest.mark.parametrize("email", ["borrower", "agent", "collector", "admin"])
def test_demo_accounts_sign_in_with_the_published_password(seeded, email):
    """borrower@, agent@, collector@ and admin@demo.test all sign in with demo1234."""
    session = seeded.app.test_client()
    response = session.post(
        "/login",
        data={
            "email": f"{email}@demo.test",
            "password": "demo1234",
            "csrf_token": csrf_token(session),
        },
    )
    assert response.status_code == 302, page_text(response)


def test_the_demo_has_one_pending_legal_request_with_complete_evidence(seeded, ctx):
    """A stage-3 case its collector asked to take to the legal stage: pending, every checklist
    item present, and the admin's requests page lists it (the second seed added none)."""
    from portal.collections.models import LegalRequest, LegalStatus

    [request] = db.session.scalars(select(LegalRequest)).all()
    case = db.session.get_one(CollectionCase, request.case_id)
    assert request.decision is None
    assert (case.stage, case.status, case.legal_status) == (
        3,
        CaseStatus.OPEN,
        LegalStatus.REQUESTED,
    )
    items = request.checklist["items"].values()
    assert len(items) == 4
    assert all(item["present"] for item in items)
    client = seeded.app.test_client()
    client.post(
        "/login",
        data={
            "email": "admin@demo.test",
            "password": "demo1234",
            "csrf_token": csrf_token(client, "/login"),
        },
    )
    assert f'data-testid="pending-{request.id}"' in client.get(
        "/staff/collections/legal/requests"
    ).get_data(as_text=True)
