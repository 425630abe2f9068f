"""Changes staff make on the messaging pages, each with its audit event.

Every function flushes and never commits (the route commits once), and records who did what in
the audit log in the same transaction, so a change and its record stand or fall together.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.audit.services import record as audit
from portal.auth.models import Channel
from portal.domain import DomainError
from portal.extensions import db
from portal.messaging.content_check import BUILT_IN_TERMS, CATEGORIES
from portal.messaging.models import PortalSetting, ProhibitedTerm, TemplateVersion
from portal.messaging.rulebooks import (
    BUILT_IN,
    InvalidRulebook,
    RulebookSettings,
    current_rulebook,
    lender_rulebook_code,
    save_rulebook,
    settings_to_json,
)
from portal.messaging.templates import save_version

LENDER_RULEBOOK_KEY = "rulebook"


class DuplicateTerm(DomainError):
    status_code = 409
    message = _l("That word or phrase is already on the list for this language.")


class UnknownRulebook(DomainError):
    status_code = 404
    message = _l("There is no such rulebook.")


def save_template(
    *,
    purpose_code: str,
    channel: Channel,
    locale: str,
    subject: str,
    body_text: str,
    body_html: str | None,
    actor_id: int,
    now: datetime,
    ip_address: str | None,
) -> TemplateVersion:
    """Store the next version of a template and audit ``template.saved``.

    Raises InvalidTemplate (with ``.errors``) before writing anything if the text is not valid.
    """
    version = save_version(
        purpose_code=purpose_code,
        channel=channel,
        locale=locale,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        actor_id=actor_id,
        now=now,
    )
    audit(
        "template.saved",
        now=now,
        actor_id=actor_id,
        object_type="template_version",
        object_id=version.id,
        details={
            "purpose": purpose_code,
            "channel": channel.value,
            "locale": locale,
            "version": version.version,
        },
        ip_address=ip_address,
    )
    return version


def _already_listed(locale: str, term: str) -> bool:
    """Whether ``locale`` lists ``term`` already, built in or added, ignoring case."""
    wanted = term.casefold()
    built_in = BUILT_IN_TERMS.get(locale, {})
    if any(listed.casefold() == wanted for terms in built_in.values() for listed in terms):
        return True
    count = db.session.scalar(
        select(func.count(ProhibitedTerm.id)).where(
            ProhibitedTerm.locale == locale, func.lower(ProhibitedTerm.term) == term.lower()
        )
    )
    return bool(count)


def add_prohibited_term(
    *,
    locale: str,
    category: str,
    term: str,
    actor_id: int,
    now: datetime,
    ip_address: str | None,
) -> ProhibitedTerm:
    """Add a word or phrase to a locale's prohibited list and audit ``prohibited_term.added``.

    ``term`` is trimmed. Raises DuplicateTerm if the locale already lists it (built in or added,
    ignoring case); if that is noticed only by the unique constraint (two admins at once), the
    session must be rolled back before it is used again.
    """
    term = term.strip()
    if category not in CATEGORIES or not term:
        raise DomainError()
    if _already_listed(locale, term):
        raise DuplicateTerm()
    row = ProhibitedTerm(
        locale=locale, category=category, term=term, created_by=actor_id, created_at=now
    )
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError as error:
        raise DuplicateTerm() from error
    audit(
        "prohibited_term.added",
        now=now,
        actor_id=actor_id,
        object_type="prohibited_term",
        object_id=row.id,
        details={"locale": locale, "category": category, "term": term},
        ip_address=ip_address,
    )
    return row


def set_lender_rulebook(code: str, *, actor_id: int, now: datetime, ip_address: str | None) -> bool:
    """Make ``code`` the lender's rulebook; audit ``rulebook.lender_changed`` if it changed.

    Returns whether anything changed. Raises UnknownRulebook for a code with no rules.
    """
    if code not in BUILT_IN:
        raise UnknownRulebook()
    previous = lender_rulebook_code()
    if previous == code:
        return False
    setting = db.session.get(PortalSetting, LENDER_RULEBOOK_KEY)
    if setting is None:
        setting = PortalSetting(key=LENDER_RULEBOOK_KEY, value=code)
        db.session.add(setting)
    setting.value = code
    setting.updated_by = actor_id
    setting.updated_at = now
    db.session.flush()
    audit(
        "rulebook.lender_changed",
        now=now,
        actor_id=actor_id,
        object_type="portal_setting",
        object_id=LENDER_RULEBOOK_KEY,
        details={"from": previous, "to": code},
        ip_address=ip_address,
    )
    return True


def save_rulebook_thresholds(
    code: str, changes: dict, *, actor_id: int, now: datetime, ip_address: str | None
) -> RulebookSettings:
    """Store a new version of a rulebook and audit ``rulebook.saved`` with what changed.

    Raises UnknownRulebook, or InvalidRulebook (nothing written) if the thresholds conflict.
    """
    if code not in BUILT_IN:
        raise UnknownRulebook()
    before = settings_to_json(current_rulebook(code))
    saved = save_rulebook(code, changes, actor_id=actor_id, now=now)
    after = settings_to_json(saved)
    audit(
        "rulebook.saved",
        now=now,
        actor_id=actor_id,
        object_type="rulebook",
        object_id=code,
        details={
            "code": code,
            "version": saved.version,
            "changed": {
                name: {"from": before.get(name), "to": value}
                for name, value in after.items()
                if before.get(name) != value
            },
        },
        ip_address=ip_address,
    )
    return saved


__all__ = [
    "DuplicateTerm",
    "InvalidRulebook",
    "UnknownRulebook",
    "add_prohibited_term",
    "save_rulebook_thresholds",
    "save_template",
    "set_lender_rulebook",
]
