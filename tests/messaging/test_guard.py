"""The contact-rules guard as a pure function: every rule, time zones, midnight and DST."""

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.auth.models import Channel
from portal.messaging.guard import ContactFacts, Outcome, decide, next_window_start
from portal.messaging.models import ContactKind
from portal.messaging.rulebooks import BUILT_IN

CN, US = BUILT_IN["CN"], BUILT_IN["US_REG_F"]
SHANGHAI = "Asia/Shanghai"
NEW_YORK = "America/New_York"


def at(local: str, zone: str) -> datetime:
    """A UTC instant from a local wall-clock time."""
    return datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def _decide(now, facts=None, *, kind=ContactKind.COLLECTION, channel=Channel.SMS, rules=CN):
    return decide(
        kind=kind, channel=channel, now=now, facts=facts or ContactFacts(SHANGHAI), rules=rules
    )


def test_allowed_inside_the_window():
    """10:00 in Shanghai: a collection text may go now."""
    decision = _decide(at("2026-11-28T10:00", SHANGHAI))
    assert (decision.outcome, decision.rule) == (Outcome.SEND, "allowed")


@pytest.mark.parametrize(
    ("local", "expected_local"),
    [
        ("2026-11-28T22:00", "2026-11-29T08:00"),
        ("2026-11-28T23:59", "2026-11-29T08:00"),
        ("2026-11-29T00:00", "2026-11-29T08:00"),
        ("2026-11-29T07:59", "2026-11-29T08:00"),
    ],
)
def test_quiet_hours_defer_to_eight_local(local, expected_local):
    """22:00–08:00 Shanghai time is quiet: deferred to 08:00, never dropped."""
    decision = _decide(at(local, SHANGHAI))
    assert (decision.outcome, decision.rule) == (Outcome.DEFER, "quiet_hours")
    assert decision.not_before == at(expected_local, SHANGHAI)


def test_window_follows_the_borrower_zone_not_the_server():
    """The same instant is allowed for a Shanghai borrower and quiet for a New York one."""
    now = at("2026-11-28T10:00", SHANGHAI)  # 21:00 the evening before in New York (EST)
    assert _decide(now).outcome is Outcome.SEND
    us = _decide(now, ContactFacts(NEW_YORK), rules=US)
    assert us.outcome is Outcome.DEFER
    assert us.not_before == at("2026-11-28T08:00", NEW_YORK)


def test_daily_sms_cap_defers_to_next_morning():
    """Two texts already today: the third waits for tomorrow's window."""
    now = at("2026-11-28T15:00", SHANGHAI)
    facts = ContactFacts(
        SHANGHAI, sent_on_channel=[now - timedelta(hours=2), now - timedelta(hours=1)]
    )
    decision = _decide(now, facts)
    assert (decision.outcome, decision.rule) == (Outcome.DEFER, "daily_cap:sms")
    assert decision.not_before == at("2026-11-29T08:00", SHANGHAI)


def test_yesterdays_texts_do_not_count_today():
    """The cap counts the borrower's local day: texts before local midnight don't count."""
    now = at("2026-11-28T08:30", SHANGHAI)
    facts = ContactFacts(SHANGHAI, sent_on_channel=[at("2026-11-27T21:00", SHANGHAI)] * 2)
    assert _decide(now, facts).outcome is Outcome.SEND


@pytest.mark.parametrize(
    ("facts", "rule"),
    [
        (ContactFacts(SHANGHAI, has_address=False), "no_address"),
        (ContactFacts(SHANGHAI, cease_contact=True), "cease_contact"),
        (ContactFacts(SHANGHAI, open_holds=("dispute",)), "hold:dispute"),
        (ContactFacts(SHANGHAI, open_holds=("hardship_review",)), "hold:hardship_review"),
        (ContactFacts(SHANGHAI, channel_opted_out=True), "opt_out:sms"),
    ],
)
def test_blocking_rules(facts, rule):
    """No address, cease contact, an open hold and an opt-out each block, naming the rule."""
    decision = _decide(at("2026-11-28T10:00", SHANGHAI), facts)
    assert (decision.outcome, decision.rule) == (Outcome.BLOCK, rule)


def test_required_notices_ignore_opt_outs_holds_caps_and_hours():
    """A payment receipt goes even at night to an opted-out borrower under a hold."""
    facts = ContactFacts(
        SHANGHAI,
        channel_opted_out=True,
        cease_contact=True,
        open_holds=("complaint",),
        sent_on_channel=[],
    )
    decision = _decide(at("2026-11-28T23:30", SHANGHAI), facts, kind=ContactKind.REQUIRED_NOTICE)
    assert (decision.outcome, decision.rule) == (Outcome.SEND, "required_notice")


def test_reminders_respect_opt_outs_too():
    """A courtesy reminder is blocked by the channel opt-out."""
    facts = ContactFacts(SHANGHAI, channel_opted_out=True)
    assert (
        _decide(at("2026-11-28T10:00", SHANGHAI), facts, kind=ContactKind.REMINDER).rule
        == "opt_out:sms"
    )


def test_portal_notices_have_no_quiet_hours():
    """An in-portal notice interrupts nobody: it may be posted at 3 a.m."""
    decision = _decide(at("2026-11-28T03:00", SHANGHAI), channel=Channel.PORTAL)
    assert decision.outcome is Outcome.SEND


def test_cn_limits_connected_calls_and_dial_attempts_per_day():
    """CN: three connected calls or six dial attempts a day, then tomorrow."""
    now = at("2026-11-28T15:00", SHANGHAI)
    three_connected = ContactFacts(
        SHANGHAI,
        dial_attempts=[now - timedelta(minutes=m) for m in (1, 2, 3)],
        connected_calls=[now - timedelta(minutes=m) for m in (1, 2, 3)],
    )
    assert _decide(now, three_connected, channel=Channel.PHONE).rule == "connected_calls_per_day"
    six_attempts = ContactFacts(
        SHANGHAI, dial_attempts=[now - timedelta(minutes=m) for m in range(1, 7)]
    )
    decision = _decide(now, six_attempts, channel=Channel.PHONE)
    assert (decision.rule, decision.not_before) == (
        "dial_attempts_per_day",
        at("2026-11-29T08:00", SHANGHAI),
    )
    five_attempts = ContactFacts(
        SHANGHAI, dial_attempts=[now - timedelta(minutes=m) for m in range(1, 6)]
    )
    assert _decide(now, five_attempts, channel=Channel.PHONE).outcome is Outcome.SEND


def test_us_seven_calls_in_seven_days_frees_when_the_oldest_ages_out():
    """Reg F: the eighth attempt in 7 rolling days waits until the oldest is 7 days old."""
    now = at("2026-11-28T12:00", NEW_YORK)
    attempts = [now - timedelta(days=6, hours=1)] + [now - timedelta(days=d) for d in range(1, 7)]
    decision = _decide(
        now, ContactFacts(NEW_YORK, dial_attempts=attempts), channel=Channel.PHONE, rules=US
    )
    assert decision.rule == "call_attempts_per_7_days"
    assert decision.not_before == attempts[0] + timedelta(days=7)


def test_us_no_call_within_seven_days_after_a_conversation():
    """Reg F: after a telephone conversation, no call for 7 days (emails still go)."""
    now = at("2026-11-28T12:00", NEW_YORK)
    talked = now - timedelta(days=2)
    facts = ContactFacts(NEW_YORK, dial_attempts=[talked], connected_calls=[talked])
    decision = _decide(now, facts, channel=Channel.PHONE, rules=US)
    assert decision.rule == "after_conversation"
    assert decision.not_before == talked + timedelta(days=7)
    assert _decide(now, facts, channel=Channel.EMAIL, rules=US).outcome is Outcome.SEND


def test_third_parties_only_as_emergency_contacts_of_unreachable_borrowers():
    """CN: an emergency contact only while the borrower is unreachable; US: never."""
    now = at("2026-11-28T10:00", SHANGHAI)
    reachable = ContactFacts(SHANGHAI, to_third_party=True)
    assert _decide(now, reachable).rule == "third_party_borrower_reachable"
    unreachable = ContactFacts(SHANGHAI, to_third_party=True, borrower_unreachable=True)
    assert _decide(now, unreachable).outcome is Outcome.SEND
    us = ContactFacts(NEW_YORK, to_third_party=True, borrower_unreachable=True)
    assert _decide(now, us, rules=US).rule == "third_party_not_allowed"


def test_an_emergency_contact_who_opted_out_is_never_texted():
    """Their own STOP blocks every kind of message to them, before any other rule is asked."""
    now = at("2026-11-28T10:00", SHANGHAI)
    opted_out = ContactFacts(
        SHANGHAI, to_third_party=True, borrower_unreachable=True, third_party_opted_out=True
    )
    for kind in ContactKind:
        decision = _decide(now, opted_out, kind=kind)
        assert (decision.outcome, decision.rule) == (Outcome.BLOCK, "emergency_contact_opt_out")
    also_ceased = replace(opted_out, cease_contact=True, open_holds=("dispute",))
    assert _decide(now, also_ceased).rule == "emergency_contact_opt_out"
    assert _decide(now, replace(opted_out, third_party_opted_out=False)).outcome is Outcome.SEND


ZONES = st.sampled_from(
    [
        SHANGHAI,
        NEW_YORK,
        "Europe/London",
        "Australia/Lord_Howe",
        "America/Santiago",
        "Asia/Kathmandu",
        "Pacific/Chatham",
    ]
)
INSTANTS = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=400, deadline=None)
@given(now=INSTANTS, zone=ZONES, rules=st.sampled_from([CN, US]))
def test_deferred_contacts_land_inside_the_window(now, zone, rules):
    """Whatever the zone (DST, half-hour offsets), a deferral lands on an allowed local time
    in the future, within a day, and sending is only ever allowed inside the window."""
    decision = _decide(now, ContactFacts(zone), rules=rules)
    local = now.astimezone(ZoneInfo(zone)).time()
    inside = rules.window_start <= local < rules.window_end
    if decision.outcome is Outcome.SEND:
        assert inside
    else:
        assert not inside
        assert now < decision.not_before <= now + timedelta(days=1, hours=2)
        landed = decision.not_before.astimezone(ZoneInfo(zone)).time()
        assert rules.window_start <= landed < rules.window_end


@settings(max_examples=200, deadline=None)
@given(now=INSTANTS, zone=ZONES)
def test_next_window_start_is_idempotent(now, zone):
    """Asking again at the earliest allowed time says: now."""
    first = next_window_start(now, CN, ZoneInfo(zone))
    assert next_window_start(first, CN, ZoneInfo(zone)) == first


def test_dst_spring_forward_morning_in_new_york():
    """On the day clocks go forward, the window still opens at 08:00 local (12:00 UTC)."""
    decision = _decide(at("2026-03-08T03:30", NEW_YORK), ContactFacts(NEW_YORK), rules=US)
    assert decision.not_before == datetime(2026, 3, 8, 12, 0, tzinfo=UTC)
    assert decision.not_before.astimezone(ZoneInfo(NEW_YORK)).time() == time(8, 0)
