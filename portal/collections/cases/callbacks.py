"""Callbacks: when the collector will call the borrower again, set in the borrower's time."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

from portal.audit.services import record as audit
from portal.auth.models import User
from portal.collections.cases.access import borrower_timezone, lock_open_case
from portal.domain import DomainError
from portal.extensions import db


class CallbackRefused(DomainError):
    status_code = 422


class CallbackInPast(CallbackRefused):
    message = _l("The callback time has already passed for the borrower. Choose a later time.")


class CallbackTimeSkipped(CallbackRefused):
    message = _l("That time does not exist in the borrower's time zone (the clocks change then).")


def set_callback(
    case_id: int,
    *,
    viewer: User,
    local_time: datetime,
    now: datetime,
    ip_address: str | None = None,
) -> datetime:
    """Set the case's callback from a naive wall-clock time in the BORROWER's time zone;
    stores and returns it in UTC. Refuses a past time and one the clocks skip (CallbackRefused);
    a time the clocks repeat is taken the first time round. Audits ``case.callback_set``."""
    case = lock_open_case(case_id, viewer)
    zone = ZoneInfo(borrower_timezone(case))
    at = local_time.replace(tzinfo=zone).astimezone(UTC)
    if at.astimezone(zone).replace(tzinfo=None) != local_time.replace(tzinfo=None):
        raise CallbackTimeSkipped()
    if at <= now:
        raise CallbackInPast()
    case.callback_at = at
    db.session.flush()
    audit(
        "case.callback_set",
        now=now,
        actor_id=viewer.id,
        object_type="collection_case",
        object_id=case.id,
        details={"callback_at": at.isoformat()},
        ip_address=ip_address,
    )
    return at
