from datetime import timedelta

from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.auth.models import Role
from portal.extensions import db
from tests.conftest import csrf_token, login, page_text


def _post_login(client, email, password, **extra):
    data = {"email": email, "password": password, "csrf_token": csrf_token(client), **extra}
    return client.post("/login", data=data)


def _actions(app):
    with app.app_context():
        return [
            e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.sequence))
        ]


def test_borrower_lands_on_dashboard(client, make_user):
    """A borrower who signs in is sent to / and sees their dashboard."""
    account = make_user(Role.BORROWER, name="李雷")
    response = login(client, account)
    assert response.headers["Location"] == "/"
    assert "李雷" in page_text(client.get("/"))


def test_staff_land_on_staff_area(client, make_user):
    """Agents, collectors and admins land on /staff."""
    for role in (Role.AGENT, Role.COLLECTOR, Role.ADMIN):
        staff_client = client.application.test_client()
        response = login(staff_client, make_user(role))
        assert response.headers["Location"] == "/staff/"
        assert staff_client.get("/").headers["Location"] == "/staff/"


def test_email_is_case_insensitive(client, make_user):
    """Sign-in accepts the email in any case and with surrounding spaces."""
    account = make_user(email="mixed@example.com")
    response = _post_login(client, "  MIXED@Example.COM ", account.password)
    assert response.status_code == 302


def test_wrong_password_and_unknown_email_get_the_same_answer(app, client, make_user):
    """No account enumeration: wrong password and unknown email read the same, status 401."""
    account = make_user()
    wrong = _post_login(client, account.email, "not-the-password")
    unknown = _post_login(client, "nobody@example.com", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert "邮箱或密码不正确" in page_text(wrong)
    assert page_text(wrong).replace(account.email, "") == page_text(unknown).replace(
        "nobody@example.com", ""
    )
    assert client.get("/").status_code == 302  # still signed out
    assert _actions(app) == ["auth.login_failed", "auth.login_failed"]


def test_inactive_account_cannot_sign_in(client, make_user):
    """A deactivated account is refused with the same message as a wrong password."""
    account = make_user(active=False)
    response = _post_login(client, account.email, account.password)
    assert response.status_code == 401


def test_missing_csrf_token_is_refused(client, make_user):
    """A login form without its CSRF token is refused and signs nobody in."""
    account = make_user()
    response = client.post("/login", data={"email": account.email, "password": account.password})
    assert response.status_code == 400
    assert "表单已过期" in page_text(response)
    assert client.get("/").status_code == 302


def test_malformed_email_gets_field_error(client):
    """An email without @ gets a localized field error, not a sign-in attempt."""
    response = _post_login(client, "not-an-email", "whatever")
    assert response.status_code == 400
    assert "请输入有效的邮箱地址" in page_text(response)


def test_oversized_fields_are_refused(client, make_user):
    """Too-long email and password get field errors; a huge body gets 413."""
    response = _post_login(client, "a" * 300 + "@example.com", "x" * 500)
    assert response.status_code == 400
    text = page_text(response)
    assert "254" in text
    assert "128" in text
    huge = client.post("/login", data={"email": "a@b.cn", "password": "x" * (2 * 1024 * 1024)})
    assert huge.status_code == 413


def test_successful_login_is_audited_with_ip(app, client, make_user):
    """Sign-in writes an audit event naming the user and the client address."""
    account = make_user()
    login(client, account)
    with app.app_context():
        event = db.session.scalars(select(AuditEvent)).one()
        assert (event.action, event.actor_id, event.ip_address) == (
            "auth.login",
            account.id,
            "127.0.0.1",
        )


def test_next_parameter_is_followed_only_on_site(client, make_user):
    """?next= sends the user back to a local page, never to another site."""
    account = make_user()
    token = csrf_token(client)
    data = {"email": account.email, "password": account.password, "csrf_token": token}
    response = client.post("/login?next=https://evil.example/", data=data)
    assert response.headers["Location"] == "/"
    client.application.test_client()
    other = client.application.test_client()
    token = csrf_token(other)
    response = other.post("/login?next=/loans/1", data={**data, "csrf_token": token})
    assert response.headers["Location"] == "/loans/1"


def test_login_is_rate_limited(app, client, make_user):
    """Repeated attempts on one account are throttled with a localized 429."""
    account = make_user()
    statuses = [_post_login(client, account.email, "wrong").status_code for _ in range(6)]
    assert statuses[:5] == [401] * 5
    assert statuses[5] == 429
    response = _post_login(client, account.email, account.password)
    assert response.status_code == 429
    assert "尝试次数过多" in page_text(response)
    assert "Retry-After" in response.headers


def test_logout_needs_post_with_csrf(borrower_client):
    """GET /logout is not a thing; POST without token keeps the session; with token signs out."""
    assert borrower_client.get("/logout").status_code == 405
    assert borrower_client.post("/logout").status_code == 400
    assert borrower_client.get("/").status_code == 200
    response = borrower_client.post(
        "/logout", data={"csrf_token": csrf_token(borrower_client, "/")}
    )
    assert response.headers["Location"] == "/login"
    assert borrower_client.get("/").status_code == 302


def test_idle_session_expires_with_message(app, borrower_client):
    """A session idle past SESSION_IDLE_TIMEOUT is signed out and told why."""
    app.config["SESSION_IDLE_TIMEOUT"] = timedelta(seconds=-1)
    response = borrower_client.get("/loans/1")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/loans/1")
    assert "登录已过期" in page_text(borrower_client.get("/login"))


def test_session_cookie_is_http_only_and_lax(client, make_user):
    """The session cookie cannot be read by scripts and is not sent cross-site."""
    response = login(client, make_user())
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_sign_out_keeps_the_chosen_language(client, make_user):
    """After signing out, the sign-in page is still in the language the user chose."""
    login(client, make_user(locale="en"))
    response = client.post(
        "/logout", data={"csrf_token": csrf_token(client, "/")}, follow_redirects=True
    )
    assert "You have signed out" in page_text(response)
