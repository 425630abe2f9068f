"""The regulatory clocks: each rulebook across weekends, holidays, worked weekends and zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.complaints.clocks import (
    COMPLAINT_RULEBOOKS,
    BusinessCalendar,
    DayCount,
    ExtensionNeeds,
    SlaState,
    complaint_clocks,
    complaint_rulebook_for,
    extension_needs,
    sla_state,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
NO_EXCEPTIONS = BusinessCalendar()


def local(day: date, zone: ZoneInfo, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=zone)


def end_of(day: date, zone: ZoneInfo) -> datetime:
    return local(day + timedelta(days=1), zone, 0).astimezone(UTC)


def cn(received: datetime, calendar: BusinessCalendar = NO_EXCEPTIONS, **kwargs):
    return complaint_clocks("CN", received, "Asia/Shanghai", calendar, **kwargs)


def test_cn_ordinary_deadline_is_fifteen_business_days():
    """Received Monday 2 Nov 2026 in Shanghai: 15 business days later is Monday 23 Nov."""
    clocks = cn(local(date(2026, 11, 2), SHANGHAI))
    assert clocks.respond_day == date(2026, 11, 23)
    assert clocks.respond_by == end_of(date(2026, 11, 23), SHANGHAI)
    assert clocks.acknowledge_day == date(2026, 11, 3)


def test_received_on_friday_is_acknowledged_by_monday():
    """A weekend is not a business day: Friday's complaint is acknowledged by Monday."""
    assert cn(local(date(2026, 11, 6), SHANGHAI)).acknowledge_day == date(2026, 11, 9)


def test_received_on_saturday_counts_from_monday():
    """A complaint received at the weekend: the first business day after it is Monday."""
    clocks = complaint_clocks(
        "UK_DISP", local(date(2026, 11, 7), LONDON), "Europe/London", NO_EXCEPTIONS
    )
    assert clocks.acknowledge_day == date(2026, 11, 9)
    assert clocks.respond_day == date(2026, 11, 27)  # Mon 9 .. Fri 27 Nov: 15 business days


def test_cn_golden_week_pushes_the_deadline_and_worked_weekends_pull_it():
    """1-7 Oct off, Sunday 27 Sep and Saturday 10 Oct worked (China's adjusted days)."""
    holidays = frozenset(date(2026, 10, d) for d in range(1, 8))
    worked = frozenset({date(2026, 9, 27), date(2026, 10, 10)})
    received = local(date(2026, 9, 25), SHANGHAI)  # Friday
    plain = cn(received)
    golden = cn(received, BusinessCalendar(holidays, worked))
    assert plain.respond_day == date(2026, 10, 16)
    # 27, 28, 29, 30 Sep, 8, 9, 10 (Sat), 12..16, 19, 20, 21 Oct: the 15th is Wed 21 Oct.
    assert golden.respond_day == date(2026, 10, 21)
    assert golden.acknowledge_day == date(2026, 9, 27)  # the worked Sunday


def test_cn_extension_levels():
    """CN: 15, 30 (with a reason), then 60 business days (with a supervisor's approval)."""
    received = local(date(2026, 11, 2), SHANGHAI)
    days = [cn(received, extension_level=level).respond_day for level in (0, 1, 2)]
    assert days == [date(2026, 11, 23), date(2026, 12, 14), date(2027, 1, 25)]
    assert extension_needs("CN", 0) is ExtensionNeeds.REASON
    assert extension_needs("CN", 1) is ExtensionNeeds.SUPERVISOR
    assert extension_needs("CN", 2) is None


def test_us_cfpb_counts_calendar_days_through_holidays():
    """US_CFPB: 15 then 60 calendar days; Thanksgiving changes nothing."""
    thanksgiving = BusinessCalendar(frozenset({date(2026, 11, 26)}))
    received = local(date(2026, 11, 20), NEW_YORK)  # Friday
    ordinary = complaint_clocks("US_CFPB", received, "America/New_York", thanksgiving)
    extended = complaint_clocks(
        "US_CFPB", received, "America/New_York", thanksgiving, extension_level=1
    )
    assert ordinary.respond_day == date(2026, 12, 5)
    assert extended.respond_day == date(2027, 1, 19)
    assert ordinary.longest_respond_by == extended.respond_by
    assert ordinary.acknowledge_day == date(2026, 11, 23)  # still a business day: Monday
    assert extension_needs("US_CFPB", 0) is ExtensionNeeds.HOLDING_REPLY
    assert extension_needs("US_CFPB", 1) is None


def test_uk_disp_bank_holidays_and_holding_reply():
    """UK_DISP: 15 business days, 35 with a holding reply; Christmas bank holidays skipped."""
    bank = BusinessCalendar(frozenset({date(2026, 12, 25), date(2026, 12, 28)}))
    received = local(date(2026, 12, 14), LONDON)  # Monday
    ordinary = complaint_clocks("UK_DISP", received, "Europe/London", bank)
    extended = complaint_clocks("UK_DISP", received, "Europe/London", bank, extension_level=1)
    # 15..24 Dec = 8, 29, 30, 31 Dec = 11, Fri 1 Jan = 12, 4, 5, 6 Jan = 15.
    assert ordinary.respond_day == date(2027, 1, 6)
    assert extended.respond_day == date(2027, 2, 3)


def test_the_zone_decides_the_day_of_receipt():
    """20:00 UTC on Friday is already Saturday in Shanghai, but still Friday in UTC."""
    friday_evening = datetime(2026, 11, 6, 20, tzinfo=UTC)
    assert cn(friday_evening).acknowledge_day == date(2026, 11, 9)
    thursday_evening = datetime(2026, 11, 5, 20, tzinfo=UTC)
    assert cn(thursday_evening).acknowledge_day == date(2026, 11, 9)  # Friday in Shanghai
    in_utc = complaint_clocks("CN", thursday_evening, "UTC", NO_EXCEPTIONS)
    assert in_utc.acknowledge_day == date(2026, 11, 6)


def test_deadline_ends_at_local_midnight_across_a_dst_change():
    """London leaves summer time on 25 Oct 2026: the deadline is local midnight (GMT)."""
    clocks = complaint_clocks(
        "UK_DISP", local(date(2026, 10, 5), LONDON), "Europe/London", NO_EXCEPTIONS
    )
    assert clocks.respond_day == date(2026, 10, 26)
    assert clocks.respond_by == datetime(2026, 10, 27, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("code", "level"), [("NOPE", 0), ("CN", 3), ("US_CFPB", 2), ("UK_DISP", 2), ("CN", -1)]
)
def test_unknown_rulebook_or_level_is_refused(code, level):
    """Nothing is guessed: an unknown rulebook or extension level is an error."""
    with pytest.raises(ValueError, match="rulebook|level"):
        complaint_clocks(
            code, datetime(2026, 11, 2, tzinfo=UTC), "UTC", NO_EXCEPTIONS, extension_level=level
        )


def test_naive_time_is_refused():
    """A naive received time cannot be placed on a calendar."""
    with pytest.raises(ValueError, match="timezone-aware"):
        cn(datetime(2026, 11, 2))  # noqa: DTZ001


def test_contact_rulebook_maps_to_complaint_rulebook():
    """The guard's jurisdiction codes choose the complaint rulebook; unknown ones are CN."""
    assert complaint_rulebook_for(None) == "CN"
    assert complaint_rulebook_for("US_REG_F") == "US_CFPB"
    assert complaint_rulebook_for("UK_DISP") == "UK_DISP"
    assert complaint_rulebook_for("XX") == "CN"


DAYS = st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 12, 31))
# Pure and fast: no deadline, and no "too slow" failure when other work shares the CPU.
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(
    code=st.sampled_from(sorted(COMPLAINT_RULEBOOKS)),
    received_day=DAYS,
    hour=st.integers(0, 23),
    holidays=st.frozensets(DAYS, max_size=30),
    zone=st.sampled_from(["Asia/Shanghai", "Europe/London", "America/New_York", "UTC"]),
)
def test_deadline_properties(code, received_day, hour, holidays, zone):
    """For any receipt and holidays: acknowledgement first, on a business day; business-day
    deadlines on business days; each extension later; holidays only ever push deadlines."""
    tz = ZoneInfo(zone)
    calendar = BusinessCalendar(holidays)
    received = datetime(received_day.year, received_day.month, received_day.day, hour, tzinfo=tz)
    rulebook = COMPLAINT_RULEBOOKS[code]
    levels = [
        complaint_clocks(code, received, zone, calendar, extension_level=level)
        for level in range(rulebook.max_level + 1)
    ]
    first = levels[0]
    assert received < first.acknowledge_by <= first.respond_by
    assert calendar.is_business_day(first.acknowledge_day)
    assert all(a.respond_by < b.respond_by for a, b in zip(levels, levels[1:], strict=False))
    for clocks in levels:
        if rulebook.count is DayCount.BUSINESS:
            assert calendar.is_business_day(clocks.respond_day)
        assert clocks.respond_by.astimezone(tz).hour == 0
    assert first.respond_by >= complaint_clocks(code, received, zone, NO_EXCEPTIONS).respond_by


@PROPERTY
@given(received_day=DAYS, holidays=st.frozensets(DAYS, max_size=30))
def test_business_day_count_is_exact(received_day, holidays):
    """Between receipt and a CN deadline lie exactly 15 business days, the last on the deadline."""
    calendar = BusinessCalendar(holidays)
    received = datetime(received_day.year, received_day.month, received_day.day, 12, tzinfo=UTC)
    due = complaint_clocks("CN", received, "UTC", calendar).respond_day
    span = [received_day + timedelta(days=n) for n in range(1, (due - received_day).days + 1)]
    assert sum(calendar.is_business_day(day) for day in span) == 15


def test_sla_states():
    """On track, due soon, overdue; answered in time (met) or late (breached)."""
    due = datetime(2026, 11, 24, 16, tzinfo=UTC)
    assert sla_state(due, due - timedelta(days=5), answered_at=None) is SlaState.ON_TRACK
    assert sla_state(due, due - timedelta(days=1), answered_at=None) is SlaState.DUE_SOON
    assert sla_state(due, due, answered_at=None) is SlaState.OVERDUE
    assert sla_state(due, due, answered_at=due - timedelta(seconds=1)) is SlaState.MET
    assert sla_state(due, due, answered_at=due) is SlaState.BREACHED
