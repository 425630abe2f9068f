"""Revocable sessions: sign-out, password change, deactivation and "sign out everywhere" end
every session of the user, a copied cookie included; an absolute lifetime caps any session."""

from datetime import timedelta

from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.auth.models import Role, User
from portal.extensions import db
from portal.timeutil import utcnow
from tests.conftest import csrf_token, login, page_text


def _copy_of(client):
    """Another browser holding a copy of ``client``'s session cookie (a stolen cookie)."""
    thief = client.application.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def _signed_in(client, account):
    other = client.application.test_client()
    login(other, account)
    return other


def _refused(client) -> bool:
    """The client is sent to the sign-in page instead of its dashboard."""
    response = client.get("/")
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_copied_cookie_is_refused_after_sign_out(borrower_client):
    """After POST /logout, a copy of the session cookie taken before no longer signs anyone in."""
    thief = _copy_of(borrower_client)
    assert thief.get("/").status_code == 200  # the copy works while the session lives
    borrower_client.post("/logout", data={"csrf_token": csrf_token(borrower_client, "/")})

    assert _refused(thief)
    assert "请重新登录" in page_text(thief.get("/login"))


def test_session_ends_after_the_absolute_lifetime_however_active(app, borrower_client):
    """A session kept busy (never idle) works at 11 hours and ends SESSION_MAX_HOURS (12)
    after sign-in."""
    assert app.config["SESSION_MAX_LIFETIME"] == timedelta(hours=12)
    for hours, refused in ((11, False), (12.02, True)):
        with borrower_client.session_transaction() as session:
            session["signed_in_at"] = (utcnow() - timedelta(hours=hours)).isoformat()
            session["last_seen"] = utcnow().isoformat()  # active a moment ago
        assert _refused(borrower_client) is refused


def test_sign_out_everywhere_ends_the_other_browsers_session(client, make_user):
    """The user's own "sign out everywhere" ends this and every other session of theirs."""
    account = make_user(Role.COLLECTOR)
    login(client, account)
    laptop = _signed_in(client, account)
    someone_else = _signed_in(client, make_user(Role.COLLECTOR))

    response = client.post(
        "/sign-out-everywhere", data={"csrf_token": csrf_token(client, "/staff/")}
    )

    assert response.headers["Location"] == "/login"
    assert _refused(client)
    assert _refused(laptop)
    assert someone_else.get("/staff/").status_code == 200


def test_admin_signs_a_borrower_out_everywhere(app, admin_client, make_user):
    """An admin ends all of a borrower's sessions (audited with both ids); an unknown id is 404."""
    borrower = make_user(Role.BORROWER)
    phone = _signed_in(admin_client, borrower)
    token = csrf_token(admin_client, "/staff/")
    unknown = admin_client.post("/users/999999/sign-out-everywhere", data={"csrf_token": token})
    assert unknown.status_code == 404

    response = admin_client.post(
        f"/users/{borrower.id}/sign-out-everywhere",
        data={"csrf_token": csrf_token(admin_client, "/staff/"), "next": "/staff/"},
    )

    assert response.status_code == 303
    assert response.headers["Location"] == "/staff/"
    assert _refused(phone)
    assert admin_client.get("/staff/").status_code == 200  # the admin's own session goes on
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "auth.sessions_ended")
        ).one()
        assert (event.actor_id, event.object_id) == (admin_client.account.id, str(borrower.id))


def test_only_admins_sign_others_out(collector_client, make_user):
    """A collector cannot end someone else's sessions (403), and that session goes on."""
    borrower = make_user(Role.BORROWER)
    phone = _signed_in(collector_client, borrower)
    response = collector_client.post(
        f"/users/{borrower.id}/sign-out-everywhere",
        data={"csrf_token": csrf_token(collector_client, "/staff/")},
    )
    assert response.status_code == 403
    assert phone.get("/").status_code == 200


def test_password_change_ends_every_session(app, borrower_client):
    """Setting a new password ends the sessions signed in with the old one."""
    from portal.auth.services import set_password

    with app.app_context():
        set_password(db.session.get(User, borrower_client.account.id), "a-new-long-password")
        db.session.commit()
    assert _refused(borrower_client)


def test_deactivation_ends_every_session(app, borrower_client):
    """Deactivating an account ends its sessions at once."""
    from portal.auth.services import deactivate_user

    with app.app_context():
        deactivate_user(db.session.get(User, borrower_client.account.id))
        db.session.commit()
    assert _refused(borrower_client)


def test_session_is_current_is_the_one_rule(app, make_user):
    """The check (shared with the Socket.IO connect) needs the generation, a recent sign-in
    and an active account."""
    from portal.auth.sessions import session_fields, session_is_current

    account = make_user()
    now = utcnow()
    with app.app_context():
        user = db.session.get(User, account.id)
        session = session_fields(user, now=now)
        assert session_is_current(user, session, now=now)
        assert not session_is_current(user, {}, now=now)  # signed before generations existed
        assert not session_is_current(user, session, now=now + timedelta(hours=12, seconds=1))
        user.session_generation += 1
        assert not session_is_current(user, session, now=now)


def test_admin_finds_sign_out_everywhere_on_the_case_page(app, client, make_user, make_loan):
    """The case page's borrower panel offers admins (only) the button, which returns there."""
    from tests.collections.conftest import make_case

    borrower = make_user(Role.BORROWER)
    collector = make_user(Role.COLLECTOR)
    case_id = make_case(
        app, borrower_id=borrower.id, loan_id=make_loan(borrower.id), assigned_to=collector.id
    )
    page = f"/staff/collections/cases/{case_id}"
    action = f'action="/users/{borrower.id}/sign-out-everywhere"'
    login(client, collector)
    assert action not in client.get(page).get_data(as_text=True)
    admin = _signed_in(client, make_user(Role.ADMIN))
    phone = _signed_in(client, borrower)

    assert action in admin.get(page).get_data(as_text=True)
    response = admin.post(
        f"/users/{borrower.id}/sign-out-everywhere",
        data={"csrf_token": csrf_token(admin, page), "next": page},
    )

    assert response.headers["Location"] == page
    assert _refused(phone)
