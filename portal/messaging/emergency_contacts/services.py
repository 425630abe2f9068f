"""The emergency contacts a borrower names: adding, removing, and their own SMS opt-out.

A borrower keeps at most ``MAX_CONTACTS`` at a time. Removing one keeps the row (messages already
sent name it) with ``removed_at`` set; it is then no longer shown, counted or contacted. The
contact's own opt-out belongs to the phone number: STOP from a number opts out every contact row
with that number, and a row added later with that number starts opted out, so nobody can undo
someone else's STOP by naming them again. Only START from the number lifts it.

Functions flush and never commit; audit events carry ids and the relationship, never a name or
a number (the audit log cannot be edited, so personal data stays out of it).
"""

from __future__ import annotations

import re
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.audit.services import record as audit
from portal.auth.models import BorrowerProfile, User
from portal.domain import DomainError, NotFound
from portal.extensions import db
from portal.messaging.labels import RELATIONSHIP_LABELS as RELATIONSHIPS
from portal.messaging.models import EmergencyContact

MAX_CONTACTS = 3
NAME_MAX = 120
# "+", a country code that does not start with 0, and 7 to 14 more digits: 8 to 15 in all.
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")
# What people type between digits; removed before the number is checked.
_SEPARATORS = re.compile(r"[\s\-.()]")
# A mainland China mobile number as people there type it, without +86: 1, then 3-9, 9 more.
_CN_MOBILE = re.compile(r"^1[3-9]\d{9}$")
CHINA_TIME_ZONES = frozenset({"Asia/Shanghai", "Asia/Chongqing", "Asia/Harbin", "Asia/Urumqi"})


class EmergencyContactNotFound(NotFound):
    message = _l("We could not find that emergency contact.")


class EmergencyContactRefused(DomainError):
    """A contact that may not be added; ``field`` names the form field the message belongs to."""

    status_code = 422
    field: str | None = None


class InvalidPhone(EmergencyContactRefused):
    field = "phone"
    message = _l(
        "Enter the mobile number with its country code, for example +8613800138000 "
        "or +1 415 555 0100."
    )


class UnknownRelationship(EmergencyContactRefused):
    field = "relationship"
    message = _l("Choose how you know this person.")


class InvalidName(EmergencyContactRefused):
    field = "name"
    message = _l("Enter a name of at most %(max)d characters.", max=NAME_MAX)


class OwnNumber(EmergencyContactRefused):
    field = "phone"
    message = _l("This is your own number. An emergency contact is someone else.")


class DuplicateContact(EmergencyContactRefused):
    field = "phone"
    message = _l("This number is already one of your emergency contacts.")


class TooManyContacts(EmergencyContactRefused):
    message = _l(
        "You can name at most %(max)d emergency contacts. Remove one to add another.",
        max=MAX_CONTACTS,
    )


def phone_region(locale: str | None) -> str | None:
    """ "CN" when a person's numbers typed without a country code are mainland China ones: their
    locale is Chinese, or they chose none and the portal's DEFAULT_TIMEZONE is China's;
    otherwise None (a country code is required)."""
    if locale:
        return "CN" if locale.startswith("zh") else None
    return "CN" if current_app.config["DEFAULT_TIMEZONE"] in CHINA_TIME_ZONES else None


def normalize_phone(text: str, region: str | None = None) -> str | None:
    """``text`` as an E.164 number (``+86 138-0013-8000`` -> ``+8613800138000``), or None; in
    ``region`` "CN" an 11-digit mainland mobile number needs no ``+86`` (``138 0013 8000``)."""
    compact = _SEPARATORS.sub("", text or "")
    if region == "CN" and _CN_MOBILE.match(compact):
        return "+86" + compact
    return compact if _E164.match(compact) else None


def active_contacts(borrower_id: int) -> list[EmergencyContact]:
    """The borrower's emergency contacts that are not removed, oldest first."""
    return list(
        db.session.scalars(
            select(EmergencyContact)
            .where(
                EmergencyContact.borrower_id == borrower_id, EmergencyContact.removed_at.is_(None)
            )
            .order_by(EmergencyContact.id)
        )
    )


def active_contact(borrower_id: int, contact_id: int) -> EmergencyContact:
    """One active contact of this borrower; EmergencyContactNotFound (404) for anyone else's."""
    contact = db.session.scalar(
        select(EmergencyContact).where(
            EmergencyContact.id == contact_id,
            EmergencyContact.borrower_id == borrower_id,
            EmergencyContact.removed_at.is_(None),
        )
    )
    if contact is None:
        raise EmergencyContactNotFound()
    return contact


def add_contact(
    borrower_id: int,
    *,
    name: str,
    phone: str,
    relationship: str,
    now: datetime,
    actor_id: int | None,
    ip_address: str | None = None,
) -> EmergencyContact:
    """Add an emergency contact; audits ``emergency_contact.added``.

    Raises InvalidName, InvalidPhone, UnknownRelationship, OwnNumber, DuplicateContact,
    TooManyContacts, or NotFound when the borrower has no profile.
    """
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        raise InvalidName()
    user = db.session.get(User, borrower_id)
    region = phone_region(user.locale) if user is not None else None
    number = normalize_phone(phone, region)
    if number is None:
        raise InvalidPhone()
    if relationship not in RELATIONSHIPS:
        raise UnknownRelationship()
    # The profile's row lock makes two adds at once queue, so the limit holds.
    profile = db.session.get(BorrowerProfile, borrower_id, with_for_update=True)
    if profile is None:
        raise NotFound()
    if profile.phone == number:
        raise OwnNumber()
    current = active_contacts(borrower_id)
    if any(contact.phone == number for contact in current):
        raise DuplicateContact()
    if len(current) >= MAX_CONTACTS:
        raise TooManyContacts()
    contact = EmergencyContact(
        borrower_id=borrower_id,
        name=name,
        phone=number,
        relationship_to_borrower=relationship,
        opted_out_at=_standing_opt_out(number),
    )
    db.session.add(contact)
    db.session.flush()
    audit(
        "emergency_contact.added",
        now=now,
        actor_id=actor_id,
        object_type="borrower",
        object_id=borrower_id,
        details={"emergency_contact_id": contact.id, "relationship": relationship},
        ip_address=ip_address,
    )
    return contact


def remove_contact(
    borrower_id: int,
    contact_id: int,
    *,
    now: datetime,
    actor_id: int | None,
    ip_address: str | None = None,
) -> None:
    """Remove one of the borrower's contacts; audits ``emergency_contact.removed``.
    Raises EmergencyContactNotFound for a contact of someone else or one already removed."""
    contact = active_contact(borrower_id, contact_id)
    contact.removed_at = now
    audit(
        "emergency_contact.removed",
        now=now,
        actor_id=actor_id,
        object_type="borrower",
        object_id=borrower_id,
        details={"emergency_contact_id": contact.id},
        ip_address=ip_address,
    )
    db.session.flush()


def set_number_opt_out(phone: str, opted_out: bool, *, now: datetime, source: str) -> list[int]:
    """Opt every contact with this number out (or back in); returns the ids that changed.
    Audits ``emergency_contact.opt_out`` / ``.opt_in`` per contact. Flushes."""
    column = EmergencyContact.opted_out_at
    pending = column.is_(None) if opted_out else column.is_not(None)
    contacts = db.session.scalars(
        select(EmergencyContact)
        .where(EmergencyContact.phone == phone, pending)
        .order_by(EmergencyContact.id)
    ).all()
    for contact in contacts:
        contact.opted_out_at = now if opted_out else None
        audit(
            "emergency_contact.opt_out" if opted_out else "emergency_contact.opt_in",
            now=now,
            actor_id=None,
            object_type="emergency_contact",
            object_id=contact.id,
            details={"borrower_id": contact.borrower_id, "source": source},
        )
    db.session.flush()
    return [contact.id for contact in contacts]


def _standing_opt_out(number: str) -> datetime | None:
    """When this number asked us to stop, if it still stands (on any contact row)."""
    return db.session.scalar(
        select(func.min(EmergencyContact.opted_out_at)).where(
            EmergencyContact.phone == number, EmergencyContact.opted_out_at.is_not(None)
        )
    )
