"""The collection strategy: grace period, delinquency buckets and the four stages, versioned.

Admins change it at run time; each save is a new version and is audited. A database with no saved
version uses ``DEFAULT_STRATEGY`` as version 0.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.audit.services import record as audit
from portal.auth.models import User
from portal.collections.models import CollectionStrategy
from portal.domain import DomainError
from portal.extensions import db
from portal.messaging.channels import DISPATCHED_CHANNELS
from portal.messaging.models import ContactKind
from portal.messaging.purposes import PURPOSES

STAGE_NAMES = {1: "overdue_confirmed", 2: "first_contact", 3: "follow_up", 4: "legal"}
CHANNELS = tuple(channel.value for channel in DISPATCHED_CHANNELS)  # as stored in a version
BUCKET_NAME_LENGTH = 20  # collection_case.bucket, collection_position.bucket: VARCHAR(20)
# The variables the run's overdue notice fills in (portal.messaging.notices.send_overdue_notice):
# a stage may use only a collection purpose, to the borrower, whose templates need no other.
OVERDUE_NOTICE_VARIABLES = frozenset(
    {
        "loan_reference",
        "days_past_due",
        "amount_overdue",
        "principal_overdue",
        "interest_overdue",
        "fees_overdue",
        "late_charges_overdue",
        "due_dates",
        "pay_url",
        "plans_url",
    }
)

DEFAULT_STRATEGY: dict = {
    "grace_days": 0,
    "buckets": [
        {"name": "1-30", "min_dpd": 1, "max_dpd": 30},
        {"name": "31-60", "min_dpd": 31, "max_dpd": 60},
        {"name": "61-90", "min_dpd": 61, "max_dpd": 90},
        {"name": "91-180", "min_dpd": 91, "max_dpd": 180},
        {"name": "180+", "min_dpd": 181, "max_dpd": None},
    ],
    "stages": [
        {
            "stage": 1,
            "entry_dpd": 1,
            "channels": ["portal"],
            "cadence_days": 30,
            "purpose": "overdue_stage_1",
        },
        {
            "stage": 2,
            "entry_dpd": 4,
            "channels": ["portal", "sms", "email"],
            "cadence_days": 7,
            "purpose": "overdue_stage_1",
        },
        {
            "stage": 3,
            "entry_dpd": 31,
            "channels": ["portal", "sms", "email"],
            "cadence_days": 5,
            "purpose": "overdue_stage_2",
        },
        # Legal: never entered by days past due alone, only after an admin approves.
        {
            "stage": 4,
            "entry_dpd": 91,
            "channels": ["portal", "email"],
            "cadence_days": 14,
            "purpose": "overdue_stage_3",
        },
    ],
}


class InvalidStrategy(DomainError):
    status_code = 422
    message = _l("The strategy is not valid.")

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Strategy:
    version: int
    settings: dict

    @property
    def grace_days(self) -> int:
        return int(self.settings["grace_days"])

    @property
    def buckets(self) -> list[dict]:
        return self.settings["buckets"]

    @property
    def bucket_edges(self) -> list[tuple[str, int]]:
        """(name, lowest days past due) of each bucket, ascending."""
        return [(bucket["name"], bucket["min_dpd"]) for bucket in self.buckets]

    def stage(self, number: int) -> dict:
        return next(s for s in self.settings["stages"] if s["stage"] == number)


def validate_strategy(settings: dict) -> list[str]:
    """Every problem with a strategy, in words an admin can act on."""
    errors: list[str] = []
    grace = settings.get("grace_days")
    if not isinstance(grace, int) or not 0 <= grace <= 30:
        errors.append(_("The grace period must be 0 to 30 days."))
    buckets = settings.get("buckets") or []
    expected_min = 1
    for index, bucket in enumerate(buckets):
        low, high = bucket.get("min_dpd"), bucket.get("max_dpd")
        if low != expected_min:
            errors.append(
                _(
                    "Bucket %(name)s must start at %(dpd)s days past due (no gaps, no overlaps).",
                    name=bucket.get("name"),
                    dpd=expected_min,
                )
            )
        last = index == len(buckets) - 1
        if high is None and not last:
            errors.append(_("Only the last bucket may be open-ended."))
        if high is not None and (not isinstance(high, int) or high < (low or 0)):
            errors.append(_("Bucket %(name)s ends before it starts.", name=bucket.get("name")))
        if last and high is not None:
            errors.append(_("The last bucket must be open-ended."))
        expected_min = (high or 0) + 1
    if not buckets:
        errors.append(_("At least one bucket is needed."))
    names = [b.get("name") for b in buckets]
    if len(set(names)) != len(names) or not all(names):
        errors.append(_("Bucket names must be present and different."))
    if any(len(str(name or "")) > BUCKET_NAME_LENGTH for name in names):
        errors.append(_("Bucket names may have at most %(n)s characters.", n=BUCKET_NAME_LENGTH))
    stages = sorted(settings.get("stages") or [], key=lambda s: s.get("stage", 0))
    if [s.get("stage") for s in stages] != [1, 2, 3, 4]:
        errors.append(_("The strategy needs exactly the four stages 1 to 4."))
        return errors
    entries = [s.get("entry_dpd") for s in stages]
    if (
        entries[0] != 1
        or any(not isinstance(e, int) for e in entries)
        or any(b <= a for a, b in zip(entries, entries[1:], strict=False))
    ):
        errors.append(_("Stage entry thresholds must start at 1 and increase with each stage."))
    for stage in stages:
        if not set(stage.get("channels") or []) <= set(CHANNELS):
            errors.append(_("Stage %(n)s has an unknown channel.", n=stage["stage"]))
        if not isinstance(stage.get("cadence_days"), int) or stage["cadence_days"] < 1:
            errors.append(_("Stage %(n)s needs a cadence of at least one day.", n=stage["stage"]))
        if stage.get("purpose") not in PURPOSES:
            errors.append(_("Stage %(n)s uses an unknown message purpose.", n=stage["stage"]))
        elif not is_stage_purpose(stage["purpose"]):
            errors.append(
                _("Stage %(n)s must use an overdue notice to the borrower.", n=stage["stage"])
            )
    return errors


def is_stage_purpose(code: str) -> bool:
    """Whether the run can send ``code`` as a stage contact: a collection message to the
    borrower (never a required notice, which no hold or opt-out stops) that it can render."""
    spec = PURPOSES.get(code)
    return (
        spec is not None
        and spec.kind is ContactKind.COLLECTION
        and not spec.third_party
        and spec.required <= OVERDUE_NOTICE_VARIABLES
    )


def current_strategy() -> Strategy:
    row = db.session.scalar(
        select(CollectionStrategy).order_by(CollectionStrategy.version.desc()).limit(1)
    )
    if row is None:
        return Strategy(0, copy.deepcopy(DEFAULT_STRATEGY))
    return Strategy(row.version, row.settings)


def save_strategy(settings: dict, *, actor_id: int | None, now: datetime) -> Strategy:
    """Validate and store the next version (flushes; the caller commits and audits)."""
    errors = validate_strategy(settings)
    if errors:
        raise InvalidStrategy(errors)
    version = current_strategy().version + 1
    db.session.add(
        CollectionStrategy(version=version, settings=settings, created_by=actor_id, created_at=now)
    )
    db.session.flush()
    return Strategy(version, settings)


class StrategyChanged(DomainError):
    status_code = 409
    message = _l(
        "Someone saved a new version while you were editing. Your changes are kept below: "
        "compare them with the version now in force and save again."
    )


def save_strategy_version(
    settings: dict,
    *,
    expected_version: int | None,
    actor_id: int,
    now: datetime,
    ip_address: str | None,
) -> Strategy:
    """Store ``settings`` as the next version and audit ``strategy.saved`` (flushes).

    Raises InvalidStrategy (with ``.errors``) before writing anything, and StrategyChanged when
    the version in force is no longer ``expected_version`` (the one the admin edited) or another
    admin took the same version number at the same moment (the session must be rolled back).
    """
    previous = current_strategy().version
    if expected_version is not None and previous != expected_version:
        raise StrategyChanged()
    try:
        saved = save_strategy(settings, actor_id=actor_id, now=now)
    except IntegrityError as error:
        raise StrategyChanged() from error
    audit(
        "strategy.saved",
        now=now,
        actor_id=actor_id,
        object_type="collection_strategy",
        object_id=saved.version,
        details={"version": saved.version, "previous_version": previous, "settings": settings},
        ip_address=ip_address,
    )
    return saved


def strategy_history() -> list:
    """Saved versions, newest first: version, created_at, author name, settings. One query."""
    return list(
        db.session.execute(
            select(
                CollectionStrategy.version,
                CollectionStrategy.created_at,
                User.name.label("author"),
                CollectionStrategy.settings,
            )
            .outerjoin(User, User.id == CollectionStrategy.created_by)
            .order_by(CollectionStrategy.version.desc())
        ).all()
    )
