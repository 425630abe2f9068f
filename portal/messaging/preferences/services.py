"""The borrower's contact preferences: one switch per channel; no row means allowed.

Changed by the settings page, an email's unsubscribe link and SMS STOP/START replies; read by the
guard on every contact.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from portal.audit.services import record as audit
from portal.auth.models import Channel, ContactPreference
from portal.extensions import db


def opted_out(borrower_id: int, channel: Channel) -> bool:
    """Whether the borrower switched ``channel`` off (no row means allowed)."""
    allowed = db.session.scalar(
        select(ContactPreference.allowed).where(
            ContactPreference.borrower_id == borrower_id, ContactPreference.channel == channel
        )
    )
    return allowed is False


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
