"""The contact-rules guard: the one function that decides whether a contact may happen.

``decide`` is pure: given the facts about a borrower and the rulebook in force, it says *send
now*, *defer until* a time, or *block*, and names the rule that decided. ``portal.messaging.facts``
loads the facts from the database for a whole batch at once; the outbox and the call log call
``decide`` for every contact, automatic or by a collector, and record each decision.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from portal.auth.models import Channel
from portal.messaging.models import ContactKind
from portal.messaging.rulebooks import RulebookSettings


class Outcome(enum.StrEnum):
    SEND = "send"
    DEFER = "defer"
    BLOCK = "block"


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    rule: str
    not_before: datetime | None = None  # for DEFER: the earliest time the contact may go


@dataclass
class ContactFacts:
    """What the guard needs to know about one borrower at one moment."""

    timezone: str
    has_address: bool = True
    channel_opted_out: bool = False
    cease_contact: bool = False
    open_holds: tuple[str, ...] = ()
    # The loan the contact is about is in an active repayment plan (portal.plans): collection
    # contact about it pauses; its plan reminders (kind REMINDER) still go.
    in_plan: bool = False
    # Contacts already made, as UTC times (the guard counts them per local day or window).
    sent_on_channel: list[datetime] = field(default_factory=list)
    dial_attempts: list[datetime] = field(default_factory=list)
    connected_calls: list[datetime] = field(default_factory=list)
    to_third_party: bool = False
    borrower_unreachable: bool = False
    # The emergency contact themselves texted STOP (their own choice, whatever the borrower's).
    third_party_opted_out: bool = False


def decide(
    *,
    kind: ContactKind,
    channel: Channel,
    now: datetime,
    facts: ContactFacts,
    rules: RulebookSettings,
) -> Decision:
    """Decide one contact. Rules run from the most to the least final: blocks, then deferrals."""
    if not facts.has_address:
        return Decision(Outcome.BLOCK, "no_address")
    if facts.to_third_party and facts.third_party_opted_out:
        # First among the blocks: it is the recipient's own refusal, and it never expires.
        return Decision(Outcome.BLOCK, "emergency_contact_opt_out")
    if kind is ContactKind.REQUIRED_NOTICE and not facts.to_third_party:
        # Receipts and confirmations: no opt-out, cap or hold may stop them.
        return Decision(Outcome.SEND, "required_notice")
    if facts.cease_contact:
        return Decision(Outcome.BLOCK, "cease_contact")
    if facts.open_holds:
        return Decision(Outcome.BLOCK, f"hold:{facts.open_holds[0]}")
    if facts.in_plan and kind is ContactKind.COLLECTION:
        return Decision(Outcome.BLOCK, "in_plan")
    if facts.channel_opted_out:
        return Decision(Outcome.BLOCK, f"opt_out:{channel.value}")
    if facts.to_third_party:
        if rules.third_party_contact != "emergency_contacts_when_unreachable":
            return Decision(Outcome.BLOCK, "third_party_not_allowed")
        if not facts.borrower_unreachable:
            return Decision(Outcome.BLOCK, "third_party_borrower_reachable")
    if channel is Channel.PORTAL:
        return Decision(Outcome.SEND, "allowed")  # a notice in the portal interrupts nobody

    zone = ZoneInfo(facts.timezone)
    deferrals = [
        d
        for d in (
            _call_rules(channel, now, facts, rules, zone),
            _daily_cap(channel, now, facts, rules, zone),
        )
        if d is not None
    ]
    if deferrals:
        return max(deferrals, key=lambda d: d.not_before or now)
    window = _contact_window(now, rules, zone)
    if window is not None:
        return window
    return Decision(Outcome.SEND, "allowed")


def _local_day_bounds(now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    local_date = now.astimezone(zone).date()
    start = datetime.combine(local_date, time(0), tzinfo=zone)
    end = datetime.combine(local_date + timedelta(days=1), time(0), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def _window_start_on(day, rules: RulebookSettings, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, rules.window_start, tzinfo=zone).astimezone(UTC)


def next_window_start(now: datetime, rules: RulebookSettings, zone: ZoneInfo) -> datetime:
    """The first allowed moment at or after ``now`` in the borrower's time zone."""
    local = now.astimezone(zone)
    if local.time() < rules.window_start:
        return _window_start_on(local.date(), rules, zone)
    if local.time() < rules.window_end:
        return now
    return _window_start_on(local.date() + timedelta(days=1), rules, zone)


def _next_day_window_start(now: datetime, rules: RulebookSettings, zone: ZoneInfo) -> datetime:
    return _window_start_on(now.astimezone(zone).date() + timedelta(days=1), rules, zone)


def _contact_window(now: datetime, rules: RulebookSettings, zone: ZoneInfo) -> Decision | None:
    earliest = next_window_start(now, rules, zone)
    if earliest > now:
        return Decision(Outcome.DEFER, "quiet_hours", earliest)
    return None


def _daily_cap(channel, now, facts, rules, zone) -> Decision | None:
    cap = rules.daily_caps.get(channel.value)
    if cap is None:
        return None
    start, end = _local_day_bounds(now, zone)
    if sum(start <= t < end for t in facts.sent_on_channel) >= cap:
        return Decision(
            Outcome.DEFER, f"daily_cap:{channel.value}", _next_day_window_start(now, rules, zone)
        )
    return None


def _call_rules(channel, now, facts, rules, zone) -> Decision | None:
    if channel is not Channel.PHONE:
        return None
    start, end = _local_day_bounds(now, zone)
    tomorrow = _next_day_window_start(now, rules, zone)
    today_attempts = sum(start <= t < end for t in facts.dial_attempts)
    today_connected = sum(start <= t < end for t in facts.connected_calls)
    if rules.max_connected_calls_per_day is not None and (
        today_connected >= rules.max_connected_calls_per_day
    ):
        return Decision(Outcome.DEFER, "connected_calls_per_day", tomorrow)
    if rules.max_dial_attempts_per_day is not None and (
        today_attempts >= rules.max_dial_attempts_per_day
    ):
        return Decision(Outcome.DEFER, "dial_attempts_per_day", tomorrow)
    if rules.quiet_days_after_conversation is not None and facts.connected_calls:
        resume = max(facts.connected_calls) + timedelta(days=rules.quiet_days_after_conversation)
        if resume > now:
            return Decision(
                Outcome.DEFER, "after_conversation", next_window_start(resume, rules, zone)
            )
    if rules.max_call_attempts_per_7_days is not None:
        recent = sorted(t for t in facts.dial_attempts if t > now - timedelta(days=7))
        if len(recent) >= rules.max_call_attempts_per_7_days:
            # Free again when enough of the oldest attempts leave the rolling window.
            frees_at = recent[len(recent) - rules.max_call_attempts_per_7_days] + timedelta(days=7)
            return Decision(
                Outcome.DEFER, "call_attempts_per_7_days", next_window_start(frees_at, rules, zone)
            )
    return None
