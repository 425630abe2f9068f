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
from portal.auth.services import authenticate, user_by_email
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
        session["last_seen"] = now.isoformat()
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
    db.session.commit()
    language = current_user.locale or session.get("lang")
    logout_user()
    _fresh_session(keep_lang=language)  # the sign-in page stays in the user's language
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))
