"""Security headers: every kind of response carries the policy; pages are never stored."""

from __future__ import annotations

import pytest

from portal import create_app
from tests.conftest import base_config

BASELINE = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _assert_security_headers(response) -> None:
    for name, value in BASELINE.items():
        assert response.headers.get(name) == value, (name, response.headers)
    policy = response.headers["Content-Security-Policy"]
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    assert directives["script-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in directives["default-src"]
    assert "Strict-Transport-Security" not in response.headers  # not outside production


def test_html_page_json_redirect_and_error_carry_the_headers(client):
    """A page, JSON, a redirect and an error page each carry the policy and no-store."""
    responses = {
        "page": client.get("/login"),
        "json": client.get("/healthz"),
        "redirect": client.get("/"),
        "error": client.get("/no-such-page"),
    }
    assert [r.status_code for r in responses.values()] == [200, 200, 302, 404]
    for response in responses.values():
        _assert_security_headers(response)
        assert response.headers["Cache-Control"] == "no-store"


def test_static_file_carries_the_headers_and_is_cached_normally(client):
    """A static file has the policy but keeps Flask's normal caching (not no-store)."""
    response = client.get("/static/css/portal.css")
    assert response.status_code == 200
    _assert_security_headers(response)
    assert "no-store" not in response.headers.get("Cache-Control", "")
    response.close()


@pytest.mark.parametrize(
    "path", ["/", "/notices/", "/settings/contact", "/settings/emergency-contacts"]
)
def test_borrower_pages_are_never_stored(borrower_client, make_loan, path):
    """A borrower's pages answer with no-store, so a shared computer's cache keeps nothing."""
    make_loan(borrower_client.account.id)
    response = borrower_client.get(path)
    assert response.status_code == 200, path
    _assert_security_headers(response)
    assert response.headers["Cache-Control"] == "no-store"


def test_loan_page_is_never_stored(borrower_client, make_loan):
    """The loan page (balance, schedule) answers with no-store."""
    loan_id = make_loan(borrower_client.account.id)
    response = borrower_client.get(f"/loans/{loan_id}")
    assert response.status_code == 200
    _assert_security_headers(response)
    assert response.headers["Cache-Control"] == "no-store"


def test_csv_download_is_never_stored(admin_client):
    """A CSV download of borrowers' data answers with the headers and no-store."""
    response = admin_client.get("/staff/reports/overdue.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    _assert_security_headers(response)
    assert response.headers["Cache-Control"] == "no-store"


def test_staff_pages_are_never_stored(admin_client):
    """Staff pages (queue, reports, legal requests) answer with no-store."""
    for path in (
        "/staff/collections/queue",
        "/staff/reports/portfolio",
        "/staff/collections/legal/requests",
    ):
        response = admin_client.get(path)
        assert response.status_code == 200, path
        _assert_security_headers(response)
        assert response.headers["Cache-Control"] == "no-store"


def test_hsts_only_in_production():
    """PORTAL_ENV=production adds Strict-Transport-Security; its policy is the same otherwise."""
    config = {
        **base_config("postgresql://db.invalid/settle"),
        "PORTAL_ENV": "production",
        "TESTING": False,
        "SECRET_KEY": "s" * 32,
        "PUBLIC_URL": "https://settle.example.com",
        "SESSION_COOKIE_SECURE": True,
        "REMEMBER_COOKIE_SECURE": True,
    }
    app = create_app(config)
    response = app.test_client().get(
        "/static/css/portal.css", base_url="https://settle.example.com"
    )
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert response.headers["X-Frame-Options"] == "DENY"
    response.close()


def _directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def test_without_stripe_keys_nothing_outside_is_allowed(client):
    """The sandbox (no keys): scripts, frames, fetches and forms stay on the portal's origin."""
    directives = _directives(client.get("/login"))
    for name in ("script-src", "frame-src", "connect-src", "form-action"):
        assert directives[name] == ["'self'"], name
    assert "stripe" not in client.get("/login").headers["Content-Security-Policy"]


def test_with_stripe_keys_stripe_js_is_the_one_outside_script(database_url):
    """With Stripe keys: js.stripe.com runs and frames, hooks.stripe.com frames, api is fetched."""
    app = create_app(
        {
            **base_config(database_url),
            "STRIPE_SECRET_KEY": "sk_test_x",
            "STRIPE_PUBLISHABLE_KEY": "pk_test_y",
        }
    )
    directives = _directives(app.test_client().get("/login"))
    assert directives["script-src"] == ["'self'", "https://js.stripe.com"]
    assert directives["frame-src"] == [
        "'self'",
        "https://js.stripe.com",
        "https://hooks.stripe.com",
    ]
    assert directives["connect-src"] == ["'self'", "https://api.stripe.com"]
    assert directives["form-action"] == ["'self'", "https://hooks.stripe.com"]
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
