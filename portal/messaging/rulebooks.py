"""Contact rulebooks per jurisdiction. Thresholds are admin-editable; each save is a new version.

The lender's rulebook is the ``rulebook`` portal setting (default ``CN``); a borrower may carry an
override (``BorrowerProfile.rulebook_code``). A code with no saved version uses its built-in
defaults, as version 0.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, time

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.domain import DomainError
from portal.extensions import db
from portal.messaging.models import PortalSetting, Rulebook


@dataclass(frozen=True)
class RulebookSettings:
    code: str
    version: int
    # Contact only within [window_start, window_end) in the borrower's local time.
    window_start: time
    window_end: time
    daily_caps: dict[str, int] = field(default_factory=lambda: {"sms": 2, "email": 2})
    max_connected_calls_per_day: int | None = None
    max_dial_attempts_per_day: int | None = None
    max_call_attempts_per_7_days: int | None = None
    quiet_days_after_conversation: int | None = None
    # Third parties: "emergency_contacts_when_unreachable" or "never".
    third_party_contact: str = "never"
    # Failed attempts in 7 days (and nothing connected or read) that make a borrower unreachable.
    unreachable_after_attempts: int = 3
    opt_out_notice_in_electronic_messages: bool = True


BUILT_IN: dict[str, RulebookSettings] = {
    "CN": RulebookSettings(
        code="CN",
        version=0,
        window_start=time(8, 0),
        window_end=time(22, 0),
        max_connected_calls_per_day=3,
        max_dial_attempts_per_day=6,
        third_party_contact="emergency_contacts_when_unreachable",
    ),
    "US_REG_F": RulebookSettings(
        code="US_REG_F",
        version=0,
        window_start=time(8, 0),
        window_end=time(21, 0),
        max_call_attempts_per_7_days=7,
        quiet_days_after_conversation=7,
        third_party_contact="never",
    ),
}
THIRD_PARTY_MODES = ("never", "emergency_contacts_when_unreachable")
EDITABLE_FIELDS = tuple(
    f.name for f in fields(RulebookSettings) if f.name not in ("code", "version")
)


class InvalidRulebook(DomainError):
    status_code = 422
    message = _l("The rulebook settings are not valid.")


class ConcurrentEdit(DomainError):
    status_code = 409
    message = _l("Someone else saved a new version at the same moment. Reload and try again.")


def settings_to_json(settings: RulebookSettings) -> dict:
    data = asdict(settings)
    data["window_start"] = settings.window_start.strftime("%H:%M")
    data["window_end"] = settings.window_end.strftime("%H:%M")
    del data["code"], data["version"]
    return data


def settings_from_json(code: str, version: int, data: dict) -> RulebookSettings:
    values = {**settings_to_json(BUILT_IN[code]), **data}
    values["window_start"] = time.fromisoformat(values["window_start"])
    values["window_end"] = time.fromisoformat(values["window_end"])
    return RulebookSettings(code=code, version=version, **values)


def current_rulebook(code: str) -> RulebookSettings:
    """The newest saved version of a rulebook, or its built-in defaults."""
    if code not in BUILT_IN:
        raise InvalidRulebook(_l("Unknown rulebook %(code)s.", code=code))
    row = db.session.scalar(
        select(Rulebook).where(Rulebook.code == code).order_by(Rulebook.version.desc()).limit(1)
    )
    if row is None:
        return BUILT_IN[code]
    return settings_from_json(code, row.version, row.settings)


def lender_rulebook_code() -> str:
    setting = db.session.get(PortalSetting, "rulebook")
    return setting.value if setting is not None else "CN"


def save_rulebook(
    code: str, changes: dict, *, actor_id: int | None, now: datetime
) -> RulebookSettings:
    """Validate and store a new version of a rulebook (flushes; caller commits and audits)."""
    current = current_rulebook(code)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidRulebook(_l("Unknown settings: %(names)s.", names=", ".join(sorted(unknown))))
    candidate = settings_from_json(
        code, current.version + 1, {**settings_to_json(current), **changes}
    )
    if candidate.window_start >= candidate.window_end:
        raise InvalidRulebook(_l("The contact window must start before it ends."))
    if candidate.third_party_contact not in THIRD_PARTY_MODES:
        raise InvalidRulebook(_l("Unknown third-party contact rule."))
    numbers = [
        candidate.max_connected_calls_per_day,
        candidate.max_dial_attempts_per_day,
        candidate.max_call_attempts_per_7_days,
        candidate.quiet_days_after_conversation,
        *candidate.daily_caps.values(),
        candidate.unreachable_after_attempts,
    ]
    if any(n is not None and (not isinstance(n, int) or n < 0) for n in numbers):
        raise InvalidRulebook(_l("Limits must be whole numbers, zero or more."))
    try:
        with db.session.begin_nested():  # a concurrent save of the same version: say so cleanly
            db.session.add(
                Rulebook(
                    code=code,
                    version=candidate.version,
                    settings=settings_to_json(candidate),
                    created_by=actor_id,
                    created_at=now,
                )
            )
    except IntegrityError as error:
        raise ConcurrentEdit() from error
    return candidate
