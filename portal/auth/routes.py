"""Sign in and sign out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from portal.audit.services import record as audit
from portal.auth.forms import EmptyForm, LoginForm
from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.auth.services import authenticate, sign_out_everywhere, user_by_email
from portal.auth.sessions import end_all_sessions, session_fields
from portal.extensions import db, limiter
from portal.timeutil import utcnow

bp = Blueprint("auth", __name__)


def _login_email_key() -> str:
    # Throttle guesses against one account even when they come from many addresses.
    return "login-email:" + request.form.get("email", "").strip().lower()[:254]


def landing_url(user) -> str:
    return url_for("staff.home") if user.is_staff else url_for("loans.dashboard")


def _safe_next(target: str | None) -> str | None:
    """Only same-site relative paths: an open redirect would help phishing."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _fresh_session(keep_lang: str | None) -> None:
    session.clear()
    if keep_lang:
        session["lang"] = keep_lang


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_EMAIL_RATE_LIMIT"],
    key_func=_login_email_key,
    methods=["POST"],
)
def login():
    if current_user.is_authenticated:
        return redirect(landing_url(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        now = utcnow()
        user = authenticate(form.email.data, form.password.data, now=now)
        if user is None:
            known = user_by_email(form.email.data)
            audit(
                "auth.login_failed",
                now=now,
                object_type="user",
                object_id=known.id if known else None,
                ip_address=request.remote_addr,
            )
            db.session.commit()
            # Same words whether the email is unknown or the password wrong: no enumeration.
            flash(_("The email or password is not correct."), "danger")
            return render_template("auth/login.html", form=form), 401
        next_url = _safe_next(request.args.get("next"))
        _fresh_session(keep_lang=session.get("lang"))  # no session fixation
        login_user(user)
        session.update(session_fields(user, now=now), last_seen=now.isoformat())
        audit(
            "auth.login",
            now=now,
            actor_id=user.id,
            object_type="user",
            object_id=user.id,
            ip_address=request.remote_addr,
        )
        db.session.commit()
        return redirect(next_url or landing_url(user))
    status = 400 if form.errors else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    form = EmptyForm()
    if not form.validate_on_submit():
        flash(_("Your form expired. Please try again."), "warning")
        return redirect(landing_url(current_user))
    audit(
        "auth.logout",
        now=utcnow(),
        actor_id=current_user.id,
        object_type="user",
        object_id=current_user.id,
        ip_address=request.remote_addr,
    )
    end_all_sessions(current_user)  # copies of the cookie stop working too
    db.session.commit()
    _sign_out_here()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


def _sign_out_here() -> None:
    language = current_user.locale or session.get("lang")
    logout_user()
    _fresh_session(keep_lang=language)  # the sign-in page stays in the user's language


@bp.post("/sign-out-everywhere")
@role_required(*Role)
def sign_out_everywhere_self():
    """End all of one's own sessions: this browser, and any other device or copied cookie."""
    form = EmptyForm()
    if not form.validate_on_submit():
        flash(_("Your form expired. Please try again."), "warning")
        return redirect(landing_url(current_user))
    sign_out_everywhere(
        current_user.id, actor_id=current_user.id, now=utcnow(), ip_address=request.remote_addr
    )
    db.session.commit()
    _sign_out_here()
    flash(_("You have signed out on every device."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/users/<int:user_id>/sign-out-everywhere")
@role_required(Role.ADMIN)
def sign_out_user_everywhere(user_id: int):
    """An admin ends every session of a borrower or staff member (e.g. a lost phone)."""
    target = _safe_next(request.form.get("next")) or url_for("staff.home")
    form = EmptyForm()
    if not form.validate_on_submit():
        flash(_("Your form expired. Please try again."), "warning")
        return redirect(target, code=303)
    user = sign_out_everywhere(
        user_id, actor_id=current_user.id, now=utcnow(), ip_address=request.remote_addr
    )
    db.session.commit()
    flash(_("%(name)s is signed out on every device.", name=user.name), "success")
    return redirect(target, code=303)
