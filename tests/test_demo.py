import json
from datetime import date

from sqlalchemy import func, select

from portal.auth.models import User
from portal.collections.strategy import current_strategy
from portal.demo import seed
from portal.extensions import db
from portal.loans.models import Loan
from portal.loans.services import loan_position, loans_of_borrower, portfolio_by_bucket
from portal.messaging.emergency_contacts.services import active_contacts
from portal.messaging.models import EmergencyContact
from tests.conftest import csrf_token, page_text

TODAY = date(2026, 11, 28)


def test_no_demo_accounts_exist_before_the_demo_command(app_ctx):
    """Migrations create no users: demo accounts come only from `demo seed`."""
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_seed_spreads_loans_over_every_bucket(app_ctx):
    """About 50 borrowers, loans in current and every overdue bucket, partial payments included."""
    result = seed(TODAY)
    db.session.commit()
    assert result.users_created == 54
    buckets = {
        row.bucket: row.loans for row in portfolio_by_bucket(TODAY, current_strategy().bucket_edges)
    }
    assert set(buckets) == {"current", "1-30", "31-60", "61-90", "91-180", "180+"}
    assert all(buckets[name] >= 8 for name in ("current", "1-30", "31-60", "61-90", "91-180"))
    assert buckets["180+"] == 0  # the demo's oldest arrears are 170 days
    partly_paid = db.session.scalar(
        select(func.count()).select_from(Loan).where(Loan.payments.any())
    )
    assert partly_paid >= 25


def test_demo_borrower_has_one_overdue_and_one_current_loan(app_ctx):
    """The demo borrower's dashboard has something to pay and something on schedule."""
    seed(TODAY)
    borrower = db.session.scalar(select(User).where(User.email == "borrower@demo.test"))
    positions = [loan_position(loan, TODAY) for loan in loans_of_borrower(borrower.id)]
    assert sorted(p.is_overdue for p in positions) == [False, True]


def test_some_demo_borrowers_named_an_emergency_contact(app_ctx):
    """The case page's emergency-contact card has something to show in the demo."""
    seed(TODAY)
    demo = db.session.scalar(select(User).where(User.email == "borrower@demo.test"))
    assert [c.relationship_to_borrower for c in active_contacts(demo.id)] == ["parent"]
    assert db.session.scalar(select(func.count()).select_from(EmergencyContact)) == 17


def test_seed_twice_changes_nothing(app):
    """The seed command is idempotent: the second run creates nothing."""
    runner = app.test_cli_runner()
    first = json.loads(runner.invoke(args=["demo", "seed", "--today", "2026-11-28"]).stdout)
    second = json.loads(runner.invoke(args=["demo", "seed", "--today", "2026-11-28"]).stdout)
    assert first["users_created"] == 54
    assert first["loans_created"] == 52
    assert second == {**first, "users_created": 0, "loans_created": 0, "payments_created": 0}


def test_seed_is_refused_in_production(app):
    """Demo accounts are never created on a production portal."""
    app.config["PORTAL_ENV"] = "production"
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code != 0
    assert "never created in production" in result.output


def test_demo_accounts_sign_in_with_the_published_password(app, client):
    """borrower@, agent@, collector@ and admin@demo.test all sign in with demo1234."""
    with app.app_context():
        seed(TODAY)
        db.session.commit()
    for email in ("borrower", "agent", "collector", "admin"):
        session = app.test_client()
        response = session.post(
            "/login",
            data={
                "email": f"{email}@demo.test",
                "password": "demo1234",
                "csrf_token": csrf_token(session),
            },
        )
        assert response.status_code == 302, page_text(response)
