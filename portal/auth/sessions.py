"""Revocable sessions: one rule that says whether a signed session cookie still counts.

Sessions are signed cookies, so the server cannot delete one; instead each carries the user's
``session_generation`` from sign-in and the sign-in time. Raising the generation (sign-out,
password change, deactivation, "sign out everywhere") ends every session signed before, copies
of the cookie included, and ``SESSION_MAX_LIFETIME`` caps a session however active it stays.
The HTTP check (portal/auth/__init__.py) and a Socket.IO ``connect`` handler use the same
:func:`session_is_current`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from flask import current_app

from portal.auth.models import User
from portal.extensions import db

GENERATION_KEY = "session_generation"
SIGNED_IN_AT_KEY = "signed_in_at"
# Session.info key: ids of users whose sessions the open transaction ended.
ENDED_SESSIONS_KEY = "ended_sessions_user_ids"


def session_fields(user: User, *, now: datetime) -> dict:
    """What sign-in puts in the session next to Flask-Login's user id."""
    return {GENERATION_KEY: user.session_generation, SIGNED_IN_AT_KEY: now.isoformat()}


def session_is_current(
    user: User, session: Mapping, *, now: datetime, max_lifetime: timedelta | None = None
) -> bool:
    """Whether ``session`` (signed for ``user``) still counts at ``now``.

    False if the account is inactive, the user's sessions were ended after this one was signed
    (generation differs or is missing), or it is older than ``max_lifetime`` (default: the
    app's ``SESSION_MAX_LIFETIME``).
    """
    if not user.is_active or session.get(GENERATION_KEY) != user.session_generation:
        return False
    signed_in_at = session.get(SIGNED_IN_AT_KEY)
    if not isinstance(signed_in_at, str):
        return False
    try:
        age = now - datetime.fromisoformat(signed_in_at)
    except (TypeError, ValueError):  # a naive or malformed time: not one we wrote
        return False
    limit = max_lifetime if max_lifetime is not None else current_app.config["SESSION_MAX_LIFETIME"]
    return age <= limit


def end_all_sessions(user: User) -> None:
    """End every session ``user`` has, everywhere (flushes, caller commits).

    Incremented in SQL, so two concurrent requests both count.
    """
    # Who ended their sessions in this transaction: listeners (the chat drops their open
    # connections) act on it once it commits, never before.
    db.session.info.setdefault(ENDED_SESSIONS_KEY, set()).add(user.id)
    user.session_generation = User.session_generation + 1  # type: ignore[assignment]
    db.session.flush()  # the attribute is expired: read again when next used
