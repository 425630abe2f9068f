"""Domain errors: raised by services, translated into responses in one place (portal/errors.py).

Each error carries an HTTP-ish status and a lazily translated message, so services stay free of
HTTP while every adapter can still answer clearly in the user's language.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l


class DomainError(Exception):
    status_code = 400
    message = _l("The request could not be completed.")

    def __init__(self, message=None, **context):
        super().__init__(str(message or self.message))
        if message is not None:
            self.message = message
        self.context = context


class NotFound(DomainError):
    """The object does not exist, or belongs to someone else (never say which)."""

    status_code = 404
    message = _l("We could not find that page.")
