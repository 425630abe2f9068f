"""Route-level authorization: roles. Object-level checks live in each service's queries."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from portal.auth.models import Role

STAFF_ROLES = (Role.AGENT, Role.COLLECTOR, Role.ADMIN)


def role_required(*roles: Role) -> Callable:
    """Let through signed-in users with one of ``roles``; others get 403, anonymous users login."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = roles  # type: ignore[attr-defined]  # read by the route-audit test
        return wrapped

    return decorator


def staff_required(view: Callable) -> Callable:
    return role_required(*STAFF_ROLES)(view)
