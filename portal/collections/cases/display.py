"""Sentences and times the collector's pages show: results of actions, refusals, local times.

Run in a request: text is in the reader's language, and times are shown in the borrower's zone
where the borrower's clock is what matters (calls, callbacks, deferred messages).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_datetime as babel_datetime
from babel.dates import format_timedelta
from flask_babel import get_locale
from flask_babel import gettext as _

from portal.collections.cases.actions import CallRefused, MessageResult
from portal.collections.cases.promises import PromiseAboveBalance
from portal.collections.labels import rule_label
from portal.domain import DomainError
from portal.messaging.models import MessageStatus
from portal.money import format_money
from portal.templating import zone_name


def _locale() -> str:
    return str(get_locale() or "en")


def borrower_time(value: datetime | None, timezone: str, fmt: str = "medium") -> str:
    """``value`` as the borrower's wall clock shows it, e.g. "Nov 28, 2026, 8:00:00 AM"."""
    if value is None:
        return ""
    return babel_datetime(value, fmt, tzinfo=ZoneInfo(timezone), locale=_locale())


def since(value: datetime | None, now: datetime) -> str:
    """How long ago, in words ("3 days"); "never" for no time."""
    if value is None:
        return _("never")
    return format_timedelta(max(now - value, timedelta(0)), locale=_locale())


def call_refused_text(error: CallRefused) -> str:
    """Why the guard refused the call, and from when a call is allowed (borrower's time)."""
    rule = rule_label(error.decision.rule)
    if error.decision.not_before is None:
        return _(
            "The contact rules do not allow calling this borrower (%(rule)s). "
            "No call was recorded; the refusal is on the case's timeline.",
            rule=rule,
        )
    return _(
        "The contact rules do not allow this call now (%(rule)s). The earliest allowed time is "
        "%(when)s in the borrower's time zone (%(zone)s). No call was recorded; the refusal is "
        "on the case's timeline.",
        rule=rule,
        when=borrower_time(error.decision.not_before, error.timezone, "short"),
        zone=zone_name(error.timezone),
    )


def message_result_text(result: MessageResult, timezone: str, now: datetime) -> tuple[str, str]:
    """(sentence, flash category) for what happened to a message a collector sent."""
    message = result.message
    if message is None:
        return _("The loan is not overdue, so no overdue message was sent."), "info"
    if result.repeated:
        return _(
            "This message was already sent on this channel today; nothing new was queued."
        ), "info"
    if message.status is MessageStatus.BLOCKED:
        return _(
            "The message was blocked by the contact rules (%(rule)s). Nothing will be sent.",
            rule=rule_label(message.blocked_rule),
        ), "danger"
    if message.not_before > now:
        return _(
            "The message is deferred until %(when)s in the borrower's time zone (%(rule)s).",
            when=borrower_time(message.not_before, timezone, "short"),
            rule=rule_label(result.rule),
        ), "warning"
    return _("The message is queued and goes out in a moment."), "success"


def refusal_text(error: DomainError) -> str:
    """What to show next to the form a service refused."""
    if isinstance(error, CallRefused):
        return call_refused_text(error)
    if isinstance(error, PromiseAboveBalance):
        return _(
            "The promised amount is more than the outstanding balance (%(balance)s).",
            balance=format_money(error.outstanding, error.currency, _locale()),
        )
    return str(error.message)
