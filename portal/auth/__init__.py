"""Sign-in, roles and sessions."""

from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user

from portal.extensions import login_manager
from portal.timeutil import utcnow


def init_app(app: Flask) -> None:
    from portal.auth.services import user_by_id
    from portal.auth.sessions import session_is_current

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str):
        # Every request (and a Socket.IO connect) that uses current_user passes through here:
        # a session that was ended or is too old loads nobody.
        user = user_by_id(int(user_id)) if user_id.isdigit() else None
        if user is None or not session_is_current(user, session, now=utcnow()):
            return None
        return user

    app.before_request(_end_stale_session)


def _end_stale_session():
    """Sign out a session that was ended elsewhere, is past its lifetime, or was left idle
    longer than SESSION_IDLE_TIMEOUT, and say so."""
    if request.endpoint == "static":
        return None
    now = utcnow()
    if not current_user.is_authenticated:
        if "_user_id" not in session:
            return None
        message = _("Your session has ended. Please sign in again.")
    else:
        last_seen = session.get("last_seen")
        idle_limit = current_app.config["SESSION_IDLE_TIMEOUT"]
        if last_seen is None or now - datetime.fromisoformat(last_seen) <= idle_limit:
            session["last_seen"] = now.isoformat()
            return None
        message = _("Your session expired. Please sign in again.")
    language = session.get("lang")
    logout_user()
    session.clear()
    if language:
        session["lang"] = language
    flash(message, "warning")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
