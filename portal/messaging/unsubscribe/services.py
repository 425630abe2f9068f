"""Signed unsubscribe links (no login needed): making them, reading them, their borrower.

A token is the borrower id and channel signed with SECRET_KEY (salted for this use only). It
does not expire: an unsubscribe link in an old email must keep working. The pages that use it
are in ``routes.py`` beside this module.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import select

from portal.auth.models import BorrowerProfile, Channel, User
from portal.domain import DomainError
from portal.extensions import db

_SALT = "settle-unsubscribe"


class InvalidUnsubscribeLink(DomainError):
    status_code = 400
    message = _l(
        "This unsubscribe link is not valid. Open the link from your email again, "
        "or change your preferences after signing in."
    )


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def unsubscribe_token(borrower_id: int, channel: str) -> str:
    """The URL-safe signed token naming ``borrower_id`` and ``channel``."""
    return _serializer().dumps([borrower_id, channel])


def unsubscribe_url(borrower_id: int, channel: str) -> str:
    """The absolute link for emails (PUBLIC_URL based: workers have no request to build on)."""
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    return f"{base}/unsubscribe/{unsubscribe_token(borrower_id, channel)}"


def read_unsubscribe_token(token: str) -> tuple[int, Channel]:
    """The borrower and channel a link stands for; InvalidUnsubscribeLink if tampered."""
    try:
        borrower_id, channel = _serializer().loads(token)
        return int(borrower_id), Channel(channel)
    except (BadData, ValueError, TypeError) as error:  # BadData: bad signature or payload
        raise InvalidUnsubscribeLink() from error


def borrower_of_token(token: str) -> tuple[User, Channel]:
    """The borrower and channel of a valid link; InvalidUnsubscribeLink otherwise."""
    borrower_id, channel = read_unsubscribe_token(token)
    user = db.session.scalar(
        select(User)
        .join(BorrowerProfile, BorrowerProfile.user_id == User.id)
        .where(User.id == borrower_id)
    )
    if user is None:  # signed by us, but the borrower is gone: same answer as a bad link
        raise InvalidUnsubscribeLink()
    return user, channel
