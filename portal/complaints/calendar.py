"""The business calendar admins keep per complaint rulebook: holidays and worked weekend days."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.audit.services import record as audit
from portal.complaints.clocks import COMPLAINT_RULEBOOKS, BusinessCalendar
from portal.complaints.models import BusinessCalendarDay, CalendarDayKind
from portal.domain import DomainError, NotFound
from portal.extensions import db

NAME_MAX = 120


class CalendarRefused(DomainError):
    status_code = 422


class DayAlreadyListed(CalendarRefused):
    status_code = 409
    message = _l("This day is already in the calendar.")


def business_calendar(rulebook_code: str) -> BusinessCalendar:
    """The rulebook's calendar exceptions, in one query."""
    rows = db.session.execute(
        select(BusinessCalendarDay.day, BusinessCalendarDay.kind).where(
            BusinessCalendarDay.rulebook_code == rulebook_code
        )
    ).all()
    return BusinessCalendar(
        holidays=frozenset(day for day, kind in rows if kind is CalendarDayKind.HOLIDAY),
        working_days=frozenset(day for day, kind in rows if kind is CalendarDayKind.WORKING_DAY),
    )


def calendar_days(rulebook_code: str) -> list[BusinessCalendarDay]:
    return list(
        db.session.scalars(
            select(BusinessCalendarDay)
            .where(BusinessCalendarDay.rulebook_code == rulebook_code)
            .order_by(BusinessCalendarDay.day)
        )
    )


def add_calendar_day(
    rulebook_code: str,
    day: date,
    kind: CalendarDayKind,
    name: str,
    *,
    actor_id: int,
    now: datetime,
    ip_address: str | None,
) -> BusinessCalendarDay:
    """List a holiday or a worked weekend day. Raises CalendarRefused, DayAlreadyListed.
    Deadlines already set are not moved: the calendar applies to clocks computed afterwards."""
    if rulebook_code not in COMPLAINT_RULEBOOKS:
        raise CalendarRefused(_l("Unknown rulebook."))
    name = name.strip()
    if len(name) > NAME_MAX:
        raise CalendarRefused(_l("A name has at most %(max)d characters.", max=NAME_MAX))
    row = BusinessCalendarDay(
        rulebook_code=rulebook_code,
        day=day,
        kind=kind,
        name=name,
        created_by=actor_id,
        created_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        raise DayAlreadyListed() from None
    audit(
        "complaint.calendar_day_added",
        now=now,
        actor_id=actor_id,
        object_type="business_calendar",
        object_id=rulebook_code,
        details={"day": day.isoformat(), "kind": kind.value},
        ip_address=ip_address,
    )
    return row


def remove_calendar_day(
    day_id: int, *, actor_id: int, now: datetime, ip_address: str | None
) -> None:
    row = db.session.get(BusinessCalendarDay, day_id)
    if row is None:
        raise NotFound()
    audit(
        "complaint.calendar_day_removed",
        now=now,
        actor_id=actor_id,
        object_type="business_calendar",
        object_id=row.rulebook_code,
        details={"day": row.day.isoformat(), "kind": row.kind.value},
        ip_address=ip_address,
    )
    db.session.delete(row)
    db.session.flush()
