"""The demo command's guards: no demo accounts without it, never in production."""

from sqlalchemy import func, select

from portal.auth.models import User
from portal.extensions import db


def test_no_demo_accounts_exist_before_the_demo_command(app_ctx):
    """Migrations create no users: demo accounts come only from `demo seed`."""
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_seed_is_refused_in_production(app):
    """Demo accounts are never created on a production portal."""
    app.config["PORTAL_ENV"] = "production"
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code != 0
    assert "never created in production" in result.output
