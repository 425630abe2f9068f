"""Signed unsubscribe links (no login needed) and opting out of a channel.

A token is the borrower id and channel signed with SECRET_KEY (salted for this use only). It
does not expire: an unsubscribe link in an old email must keep working. The pages that use it
are in ``routes.py`` beside this module.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import select

from portal.audit.services import record as audit
from portal.auth.models import Channel, ContactPreference
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


def set_channel_preference(
    borrower_id: int,
    channel: Channel,
    allowed: bool,
    *,
    now: datetime,
    source: str,
    actor_id: int | None = None,
    ip_address: str | None = None,
) -> bool:
    """Opt a borrower in or out of a channel; returns whether anything changed. Audited.

    No row means allowed, so opting in without a row changes nothing (no row, no event).
    """
    preference = db.session.scalar(
        select(ContactPreference).where(
            ContactPreference.borrower_id == borrower_id, ContactPreference.channel == channel
        )
    )
    if preference is None:
        if allowed:
            return False
        preference = ContactPreference(borrower_id=borrower_id, channel=channel, allowed=True)
        db.session.add(preference)
    if preference.allowed == allowed:
        return False
    preference.allowed = allowed
    preference.updated_at = now
    audit(
        "contact.opt_in" if allowed else "contact.opt_out",
        now=now,
        actor_id=actor_id,
        object_type="borrower",
        object_id=borrower_id,
        details={"channel": channel.value, "source": source},
        ip_address=ip_address,
    )
    db.session.flush()
    return True
