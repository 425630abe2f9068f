"""The embedded SQLite database enforces what PostgreSQL enforces."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from tests.conftest import ON_POSTGRES

pytestmark = pytest.mark.skipif(ON_POSTGRES, reason="SQLite connection settings")


def test_sqlite_enforces_foreign_keys(app_ctx):
    orphan = text(
        "INSERT INTO borrower_profile (user_id, customer_number) VALUES (987654, 'C-none')"
    )
    with pytest.raises(IntegrityError):
        db.session.execute(orphan)


def test_sqlite_uses_write_ahead_logging(app_ctx):
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
