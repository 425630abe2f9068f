"""The regulatory clocks of a complaint: one pure function, like the contact guard.

Given the complaint rulebook, when the complaint was received, the zone whose calendar counts
(the lender's), that calendar's exceptions (holidays, worked weekend days) and how far the
deadline has been extended, ``complaint_clocks`` returns the acknowledgement target and the
response deadlines. A deadline is the end of a local day: the instant the next local day starts.
The day of receipt is day 0; the count starts the day after it.

Rulebooks:
- ``CN`` (default): a decision within 15 business days of receipt; 30 for a complex case with a
  recorded reason; a further 30 (60 in all) only with a supervisor's approval.
- ``US_CFPB``: a response within 15 calendar days; with an "in progress" reply sent, the final
  response within 60 calendar days.
- ``UK_DISP`` (payment services, DISP 1.6.2A): a final response within 15 business days; in
  exceptional circumstances, with a holding reply, within 35 business days.
Every rulebook: acknowledgement within one business day (configurable).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


class DayCount(enum.StrEnum):
    BUSINESS = "business"
    CALENDAR = "calendar"


class ExtensionNeeds(enum.StrEnum):
    REASON = "reason"  # a recorded reason (CN: a complex case)
    HOLDING_REPLY = "holding_reply"  # a reply telling the borrower why it takes longer
    SUPERVISOR = "supervisor"  # a reason and a supervisor's approval


@dataclass(frozen=True)
class ComplaintRulebook:
    code: str
    count: DayCount
    # Days to respond at each extension level: level 0 is the ordinary deadline.
    response_days: tuple[int, ...]
    # What moving to level i+1 needs.
    extension_needs: tuple[ExtensionNeeds, ...]

    @property
    def max_level(self) -> int:
        return len(self.response_days) - 1


COMPLAINT_RULEBOOKS: dict[str, ComplaintRulebook] = {
    "CN": ComplaintRulebook(
        "CN",
        DayCount.BUSINESS,
        (15, 30, 60),
        (ExtensionNeeds.REASON, ExtensionNeeds.SUPERVISOR),
    ),
    "US_CFPB": ComplaintRulebook(
        "US_CFPB", DayCount.CALENDAR, (15, 60), (ExtensionNeeds.HOLDING_REPLY,)
    ),
    "UK_DISP": ComplaintRulebook(
        "UK_DISP", DayCount.BUSINESS, (15, 35), (ExtensionNeeds.HOLDING_REPLY,)
    ),
}
DEFAULT_RULEBOOK = "CN"
# The contact rulebook of a borrower (portal.messaging.rulebooks) -> the complaint rulebook.
FROM_CONTACT_RULEBOOK = {
    "CN": "CN",
    "US_REG_F": "US_CFPB",
    "US_CFPB": "US_CFPB",
    "UK_DISP": "UK_DISP",
}


def complaint_rulebook_for(contact_code: str | None) -> str:
    """The complaint rulebook for a jurisdiction code; unknown codes fall back to CN."""
    return FROM_CONTACT_RULEBOOK.get(contact_code or "", DEFAULT_RULEBOOK)


@dataclass(frozen=True)
class BusinessCalendar:
    """Monday to Friday, less ``holidays``, plus ``working_days`` (weekend days worked)."""

    holidays: frozenset[date] = frozenset()
    working_days: frozenset[date] = frozenset()

    def is_business_day(self, day: date) -> bool:
        if day in self.working_days:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def add_business_days(self, start: date, days: int) -> date:
        """The ``days``-th business day after ``start`` (``start`` itself not counted)."""
        day = start
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_business_day(day):
                counted += 1
        return day


@dataclass(frozen=True)
class Clocks:
    acknowledge_by: datetime  # UTC: the end of the acknowledgement day
    respond_by: datetime  # UTC: the deadline at the current extension level
    ordinary_respond_by: datetime  # the deadline without any extension
    longest_respond_by: datetime  # the deadline at the highest level the rulebook allows
    acknowledge_day: date  # local dates, for the borrower and the console
    respond_day: date


def complaint_clocks(
    rulebook_code: str,
    received_at: datetime,
    timezone: str,
    calendar: BusinessCalendar,
    *,
    extension_level: int = 0,
    acknowledge_business_days: int = 1,
) -> Clocks:
    """The complaint's deadlines. Raises ValueError for an unknown rulebook, a naive
    ``received_at`` or an extension level the rulebook does not have."""
    rulebook = COMPLAINT_RULEBOOKS.get(rulebook_code)
    if rulebook is None:
        raise ValueError(f"unknown complaint rulebook {rulebook_code!r}")
    if received_at.tzinfo is None:
        raise ValueError("received_at must be timezone-aware")
    if not 0 <= extension_level <= rulebook.max_level:
        raise ValueError(f"{rulebook_code} has no extension level {extension_level}")
    zone = ZoneInfo(timezone)
    received_day = received_at.astimezone(zone).date()

    def due_day(days: int, count: DayCount) -> date:
        if count is DayCount.BUSINESS:
            return calendar.add_business_days(received_day, days)
        return received_day + timedelta(days=days)

    acknowledge_day = due_day(acknowledge_business_days, DayCount.BUSINESS)
    days_by_level = [due_day(days, rulebook.count) for days in rulebook.response_days]
    return Clocks(
        acknowledge_by=end_of_day(acknowledge_day, zone),
        respond_by=end_of_day(days_by_level[extension_level], zone),
        ordinary_respond_by=end_of_day(days_by_level[0], zone),
        longest_respond_by=end_of_day(days_by_level[-1], zone),
        acknowledge_day=acknowledge_day,
        respond_day=days_by_level[extension_level],
    )


def end_of_day(day: date, zone: ZoneInfo) -> datetime:
    """The instant (UTC) the local day after ``day`` starts: DST-safe, never 23:59:59.999."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)


def extension_needs(rulebook_code: str, current_level: int) -> ExtensionNeeds | None:
    """What the next extension needs, or None when the rulebook allows no further one."""
    rulebook = COMPLAINT_RULEBOOKS[rulebook_code]
    if current_level >= rulebook.max_level:
        return None
    return rulebook.extension_needs[current_level]


class SlaState(enum.StrEnum):
    ON_TRACK = "on_track"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    MET = "met"  # answered (resolved, closed or withdrawn) in time
    BREACHED = "breached"  # answered, but after the deadline


def sla_state(
    respond_by: datetime,
    now: datetime,
    *,
    answered_at: datetime | None,
    due_soon_within: timedelta = timedelta(days=2),
) -> SlaState:
    """Where a complaint stands against its response deadline at ``now``."""
    if answered_at is not None:
        return SlaState.MET if answered_at < respond_by else SlaState.BREACHED
    if now >= respond_by:
        return SlaState.OVERDUE
    if respond_by - now <= due_soon_within:
        return SlaState.DUE_SOON
    return SlaState.ON_TRACK
