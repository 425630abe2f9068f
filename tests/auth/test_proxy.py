"""Behind a reverse proxy (TRUSTED_PROXIES): the sign-in limiter and the audit log see the
client's address from X-Forwarded-For, and without the setting the header is ignored."""

import pytest
from sqlalchemy import select

from portal import create_app
from portal.audit.models import AuditEvent
from portal.extensions import db, limiter
from tests.conftest import base_config, csrf_token


@pytest.fixture
def proxied(app, database_url):
    """create_app with TRUSTED_PROXIES=n and a 2-per-minute sign-in limit, on the test database
    (the ``app`` fixture cleans it up afterwards)."""
    made = []

    def factory(trusted_proxies: int):
        overrides = {"TRUSTED_PROXIES": trusted_proxies, "LOGIN_RATE_LIMIT": "2 per minute"}
        application = create_app(base_config(database_url) | overrides)
        limiter.reset()
        made.append(application)
        return application

    yield factory
    for application in made:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


def _failed_sign_ins(application, client_address: str, attempts: int) -> list[int]:
    """POST wrong passwords through a proxy that forwards for ``client_address``."""
    browser = application.test_client()
    headers = {
        "X-Forwarded-For": client_address,
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "settle.example.com",
        # Over https Flask-WTF also checks that the form was posted from this site.
        "Referer": "https://settle.example.com/login",
    }
    statuses = []
    for number in range(attempts):
        data = {
            "email": f"guess{number}@{client_address}.example.com",
            "password": "wrong",
            "csrf_token": csrf_token(browser),
        }
        statuses.append(browser.post("/login", data=data, headers=headers).status_code)
    return statuses


def test_clients_behind_a_trusted_proxy_are_limited_separately(proxied):
    """With TRUSTED_PROXIES=1 one client's failed sign-ins do not lock out another, and the
    audit log records each client's address; with 0 (the default) the header is ignored."""
    behind_proxy = proxied(1)
    assert _failed_sign_ins(behind_proxy, "203.0.113.7", 3) == [401, 401, 429]
    assert _failed_sign_ins(behind_proxy, "198.51.100.9", 2) == [401, 401]
    with behind_proxy.app_context():
        addresses = set(db.session.scalars(select(AuditEvent.ip_address)))
    assert addresses == {"203.0.113.7", "198.51.100.9"}

    trusting_nobody = proxied(0)  # a fresh limiter
    assert _failed_sign_ins(trusting_nobody, "203.0.113.7", 2) == [401, 401]
    assert _failed_sign_ins(trusting_nobody, "198.51.100.9", 1) == [429]
    with trusting_nobody.app_context():
        latest = db.session.scalars(
            select(AuditEvent.ip_address).order_by(AuditEvent.sequence.desc()).limit(2)
        ).all()
    assert latest == ["127.0.0.1", "127.0.0.1"]
