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

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str):
        return user_by_id(int(user_id)) if user_id.isdigit() else None

    app.before_request(_expire_idle_session)


def _expire_idle_session():
    """Sign out a session left idle longer than SESSION_IDLE_TIMEOUT, and say so."""
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None

    now = utcnow()
    last_seen = session.get("last_seen")
    idle_limit = current_app.config["SESSION_IDLE_TIMEOUT"]
    if last_seen is not None and now - datetime.fromisoformat(last_seen) > idle_limit:
        logout_user()
        session.clear()
        flash(_("Your session expired. Please sign in again."), "warning")
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    session["last_seen"] = now.isoformat()
    return None
