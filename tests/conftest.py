"""Fixtures: an app on a migrated database (SQLite by default, PostgreSQL with
TEST_DATABASE_URL), clients, and factories that return callables.

Each test gets a clean database: on SQLite a fresh copy of a migrated template file, on
PostgreSQL the tables are truncated after the test. Tests run against the real migrations,
so the schema (constraints, triggers) is the one production has.
"""

from __future__ import annotations

import gc
import os
import re
import shutil
from dataclasses import dataclass
from datetime import date

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from portal import create_app
from portal.audit.models import GENESIS_HASH
from portal.auth.models import Role
from portal.extensions import db, limiter

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgresql")
DEFAULT_PASSWORD = "correct-horse-battery"


def base_config(database_url: str) -> dict:
    return {
        "TESTING": True,
        "PORTAL_ENV": "test",  # whatever the shell exports
        "SECRET_KEY": "test-secret",
        # A key of its own, as production has (not the published development key).
        "AUDIT_KEY": "test-audit-key-0123456789abcdef0123456789abcdef",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": None,
        # Tests drive the tasks themselves; no background thread may touch their database.
        "IN_PROCESS_WORKER": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME": None,
        "DEFAULT_LOCALE": "zh_CN",
        "DEFAULT_TIMEZONE": "Asia/Shanghai",
        "DEFAULT_CURRENCY": "CNY",
    }


def _migrate(database_url: str) -> None:
    from flask_migrate import upgrade

    app = create_app(base_config(database_url))
    with app.app_context():
        upgrade()
        db.engine.dispose()


def _worker_database_url() -> str:
    """TEST_DATABASE_URL, or under pytest-xdist a database of the worker's own beside it
    (``test_gw0``, ``test_gw1``...), created on first use: workers truncate tables after
    every test, so they cannot share one."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return TEST_DATABASE_URL
    url = make_url(TEST_DATABASE_URL)
    name = f"{url.database}_{worker}"
    with psycopg.connect(TEST_DATABASE_URL, autocommit=True) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if found.fetchone() is None:
            connection.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory) -> str:
    """A migrated database; on SQLite the template that each test copies."""
    if ON_POSTGRES:
        try:
            database_url = _worker_database_url()
            with psycopg.connect(database_url, autocommit=True) as connection:
                connection.execute("DROP SCHEMA public CASCADE")
                connection.execute("CREATE SCHEMA public")
        except psycopg.Error as error:  # CI must fail, not skip, when PostgreSQL is down
            pytest.exit(f"TEST_DATABASE_URL={TEST_DATABASE_URL} is unreachable: {error}", 3)
        _migrate(database_url)
        return database_url
    template = tmp_path_factory.mktemp("db") / "template.db"
    _migrate(f"sqlite:///{template}")
    return str(template)


@pytest.fixture
def database_url(migrated_database, tmp_path) -> str:
    if ON_POSTGRES:
        return migrated_database
    copy = tmp_path / "test.db"
    shutil.copy(migrated_database, copy)
    return f"sqlite:///{copy}"


def _truncate_all(app: Flask) -> None:
    with app.app_context():
        tables = [t.name for t in db.metadata.sorted_tables]
        with db.engine.begin() as connection:
            # audit_event refuses TRUNCATE (a trigger); as superuser, switch triggers off here.
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            connection.execute(
                text("INSERT INTO audit_chain_head (id, sequence, entry_hash) VALUES (1, 0, :h)"),
                {"h": GENESIS_HASH},
            )


@pytest.fixture
def app(database_url):
    application = create_app(base_config(database_url))
    limiter.reset()
    yield application
    with application.app_context():
        db.session.remove()
    if ON_POSTGRES:
        _truncate_all(application)
    with application.app_context():
        db.engine.dispose()
    # Reclaim now anything the test left unreachable (threads, cycles): a leaked connection then
    # fails this test's teardown, not some later test at random.
    gc.collect()


@pytest.fixture
def app_ctx(app):
    """Run the test inside an application context (for service-level tests)."""
    with app.app_context():
        yield app


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


@dataclass(frozen=True)
class Account:
    id: int
    email: str
    password: str
    role: Role


_hash_cache: dict[str, str] = {}


@pytest.fixture
def make_user(app):
    """Create a user (borrowers get a profile) and return an Account; password hashed once."""
    from portal.auth.services import create_user, hash_password

    counter = iter(range(1, 10_000))

    def factory(
        role: Role = Role.BORROWER,
        *,
        email: str | None = None,
        password: str = DEFAULT_PASSWORD,
        locale: str | None = None,
        timezone: str = "Asia/Shanghai",
        name: str = "Test User",
        active: bool = True,
    ) -> Account:
        email = email or f"{role.value}{next(counter)}@example.com"
        if password not in _hash_cache:
            _hash_cache[password] = hash_password(password)
        with app.app_context():
            user = create_user(
                email=email,
                password_hash=_hash_cache[password],
                role=role,
                name=name,
                timezone=timezone,
                locale=locale,
            )
            user.is_active_account = active
            db.session.commit()
            return Account(user.id, user.email, password, role)

    return factory


@pytest.fixture
def make_loan(app):
    """Create a loan with a monthly schedule for a borrower; returns the loan id."""
    from portal.loans.models import LoanProduct
    from portal.loans.services import create_loan

    counter = iter(range(1, 10_000))

    def factory(
        borrower_id: int,
        *,
        principal_minor: int = 300_000,
        rate_bps: int = 2400,
        fee_minor: int = 3_000,
        currency: str = "CNY",
        disbursed_on: date = date(2026, 6, 15),
        terms: int = 6,
    ) -> int:
        with app.app_context():
            loan = create_loan(
                borrower_id=borrower_id,
                reference=f"LN-T{next(counter):05d}",
                product=LoanProduct.WALLET_CASH,
                principal_minor=principal_minor,
                annual_rate_bps=rate_bps,
                fee_minor=fee_minor,
                currency=currency,
                disbursed_on=disbursed_on,
                terms=terms,
            )
            db.session.commit()
            return loan.id

    return factory


CSRF_PATTERN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token from a rendered form, as a browser would submit it."""
    page = client.get(path).get_data(as_text=True)
    match = CSRF_PATTERN.search(page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: FlaskClient, account: Account):
    response = client.post(
        "/login",
        data={
            "email": account.email,
            "password": account.password,
            "csrf_token": csrf_token(client),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def _logged_in(client, make_user, role: Role) -> FlaskClient:
    account = make_user(role)
    login(client, account)
    client.account = account  # type: ignore[attr-defined]
    return client


@pytest.fixture
def borrower_client(client, make_user) -> FlaskClient:
    return _logged_in(client, make_user, Role.BORROWER)


@pytest.fixture
def agent_client(client, make_user) -> FlaskClient:
    return _logged_in(client, make_user, Role.AGENT)


@pytest.fixture
def collector_client(client, make_user) -> FlaskClient:
    return _logged_in(client, make_user, Role.COLLECTOR)


@pytest.fixture
def admin_client(client, make_user) -> FlaskClient:
    return _logged_in(client, make_user, Role.ADMIN)


def count_queries(app, client, path: str) -> int:
    """The SQL statements one GET of ``path`` issues (it must answer 200): pages are tested to
    issue a fixed number, whatever the number of rows they show."""
    statements: list[str] = []
    with app.app_context():
        engine = db.engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(statements)


def page_text(response) -> str:
    """The visible text of an HTML response, whitespace folded, for content assertions."""
    html = re.sub(
        r"<(script|style)[^>]*>.*?</\1>", " ", response.get_data(as_text=True), flags=re.S
    )
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def pytest_collection_modifyitems(config, items):
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: set TEST_DATABASE_URL")
    # Browser journeys test pages, not the database: they run once, on the embedded SQLite,
    # which keeps CI's PostgreSQL pass to the tests where the engine matters.
    skip_browser = pytest.mark.skip(reason="browser tests run on SQLite only")
    for item in items:
        if "postgres" in item.keywords and not ON_POSTGRES:
            item.add_marker(skip_pg)
        if "browser" in item.keywords and ON_POSTGRES:
            item.add_marker(skip_browser)
