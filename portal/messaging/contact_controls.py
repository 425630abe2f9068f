"""Staff controls over how a borrower may be contacted: cease contact, rulebook, holds.

Each change is audited and read by the contact-rules guard at the next decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.audit.services import record as audit
from portal.auth.models import BorrowerProfile
from portal.domain import DomainError, NotFound
from portal.extensions import db
from portal.messaging.models import ContactHold, HoldReason
from portal.messaging.rulebooks import BUILT_IN


class ContactControlRefused(DomainError):
    status_code = 422


@dataclass(frozen=True)
class ContactControls:
    cease_contact: bool
    rulebook_code: str | None
    open_holds: list[ContactHold]


def contact_controls(borrower_id: int) -> ContactControls:
    """The borrower's contact settings staff can change (two queries)."""
    profile = db.session.get(BorrowerProfile, borrower_id)
    if profile is None:
        raise NotFound()
    holds = db.session.scalars(
        select(ContactHold)
        .where(ContactHold.borrower_id == borrower_id, ContactHold.closed_at.is_(None))
        .order_by(ContactHold.opened_at)
    ).all()
    return ContactControls(profile.cease_contact, profile.rulebook_code, list(holds))


def _profile(borrower_id: int) -> BorrowerProfile:
    profile = db.session.get(BorrowerProfile, borrower_id, with_for_update=True)
    if profile is None:
        raise NotFound()
    return profile


def set_cease_contact(
    borrower_id: int, cease: bool, *, actor_id: int, now: datetime, ip_address: str | None
) -> None:
    """Stop (or resume) all contact but required notices, e.g. on a borrower's written request."""
    profile = _profile(borrower_id)
    if profile.cease_contact == cease:
        return
    profile.cease_contact = cease
    audit(
        "contact.cease_set" if cease else "contact.cease_lifted",
        now=now,
        actor_id=actor_id,
        object_type="borrower",
        object_id=borrower_id,
        ip_address=ip_address,
    )
    db.session.flush()


def set_rulebook_override(
    borrower_id: int, code: str | None, *, actor_id: int, now: datetime, ip_address: str | None
) -> None:
    """Govern one borrower by another jurisdiction's rulebook (None: the lender's)."""
    if code is not None and code not in BUILT_IN:
        raise ContactControlRefused(_l("Unknown rulebook."))
    profile = _profile(borrower_id)
    if profile.rulebook_code == code:
        return
    audit(
        "contact.rulebook_override",
        now=now,
        actor_id=actor_id,
        object_type="borrower",
        object_id=borrower_id,
        details={"from": profile.rulebook_code, "to": code},
        ip_address=ip_address,
    )
    profile.rulebook_code = code
    db.session.flush()


def open_hold(
    borrower_id: int,
    reason: HoldReason,
    note: str,
    *,
    actor_id: int | None,
    now: datetime,
    ip_address: str | None,
    expires_at: datetime | None = None,
) -> ContactHold:
    """Pause reminders and collection contact while a dispute, complaint or review is open;
    with ``expires_at``, at most until then (the guard ignores it afterwards)."""
    _profile(borrower_id)
    if len(note) > 500:
        raise ContactControlRefused(_l("A note has at most 500 characters."))
    hold = ContactHold(
        borrower_id=borrower_id,
        reason=reason,
        note=note.strip(),
        opened_at=now,
        opened_by=actor_id,
        expires_at=expires_at,
    )
    db.session.add(hold)
    db.session.flush()
    audit(
        "contact.hold_opened",
        now=now,
        actor_id=actor_id,
        object_type="borrower",
        object_id=borrower_id,
        details={"hold": hold.id, "reason": reason.value},
        ip_address=ip_address,
    )
    return hold


def close_hold(
    borrower_id: int, hold_id: int, *, actor_id: int | None, now: datetime, ip_address: str | None
) -> None:
    """Close an open hold of this borrower; contact resumes under the rules."""
    hold = db.session.scalar(
        select(ContactHold)
        .where(ContactHold.id == hold_id, ContactHold.borrower_id == borrower_id)
        .with_for_update()
    )
    if hold is None:
        raise NotFound()
    if hold.closed_at is not None:
        raise ContactControlRefused(_l("This hold is already closed."))
    hold.closed_at = now
    audit(
        "contact.hold_closed",
        now=now,
        actor_id=actor_id,
        object_type="borrower",
        object_id=borrower_id,
        details={"hold": hold.id},
        ip_address=ip_address,
    )
    db.session.flush()
