"""Default message texts for every purpose, in Chinese and English, and installing them.

The texts live in one data file per locale beside this module (``zh_CN.toml``, ``en.toml``); a
purpose's table has ``subject`` and ``body`` (the portal notice and the email) and ``sms`` (the
text message). They are a starting point that admins edit as new template versions, and follow
the same rules as any template: only variables the purpose declares, every required variable on
every channel, and no prohibited wording (see ``content_check``). Tone: calm, plain and
respectful; no threats, no urgency, no legal claims.

Optional variables are used sparingly: Jinja's ``StrictUndefined`` fails a render for any
variable a template references but the caller does not pass. The defaults reference only
``pay_url`` and ``plans_url`` (in borrower notices) and the common ``borrower_name`` and
``portal_url``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib.resources import files

from portal.auth.models import Channel
from portal.messaging.channels import DISPATCHED_CHANNELS
from portal.messaging.channels.sms import OPT_OUT_LINES, needs_opt_out
from portal.messaging.purposes import PURPOSES
from portal.messaging.templates import latest_version, save_version

LOCALES = ("zh_CN", "en")
INSTALL_CHANNELS = DISPATCHED_CHANNELS


@dataclass(frozen=True)
class DefaultText:
    """``long`` is the portal notice and email body, ``short`` the SMS body."""

    subject: str
    long: str
    short: str


def _with_opt_out(text: str, locale: str) -> str:
    """The text message with its opt-out line; no space after a full-width full stop."""
    separator = "" if text.endswith("。") else " "
    return f"{text}{separator}{OPT_OUT_LINES[locale]}"


def _read_locale(locale: str) -> dict[tuple[str, str], DefaultText]:
    data = tomllib.loads(files(__name__).joinpath(f"{locale}.toml").read_text(encoding="utf-8"))
    texts = {}
    for purpose_code, table in data.items():
        short = table["sms"]
        if needs_opt_out(Channel.SMS, PURPOSES[purpose_code].kind):
            short = _with_opt_out(short, locale)
        texts[(purpose_code, locale)] = DefaultText(table["subject"], table["body"], short)
    return texts


@cache
def default_texts() -> dict[tuple[str, str], DefaultText]:
    """Every default text by (purpose code, locale), read once from the data files."""
    return {key: text for locale in LOCALES for key, text in _read_locale(locale).items()}


def channels_for(purpose_code: str) -> tuple[Channel, ...]:
    """The channels a default is installed on: third-party messages go by text message only."""
    if PURPOSES[purpose_code].third_party:
        return (Channel.SMS,)
    return INSTALL_CHANNELS


def default_for(purpose_code: str, channel: Channel, locale: str) -> tuple[str, str]:
    """The (subject, body_text) of the default template for one purpose, channel and locale."""
    text = default_texts()[(purpose_code, locale)]
    if channel is Channel.SMS:
        return "", text.short
    return text.subject, text.long


def install_default_templates(*, now: datetime, actor_id: int | None = None) -> int:
    """Save the default text wherever no template exists yet; returns how many were created.

    Idempotent: an existing template (default or edited by an admin) is never touched. Flushes
    only; the caller commits.
    """
    created = 0
    for purpose_code in PURPOSES:
        for locale in LOCALES:
            for channel in channels_for(purpose_code):
                if latest_version(purpose_code, channel, locale) is not None:
                    continue
                subject, body_text = default_for(purpose_code, channel, locale)
                save_version(
                    purpose_code=purpose_code,
                    channel=channel,
                    locale=locale,
                    subject=subject,
                    body_text=body_text,
                    body_html=None,
                    actor_id=actor_id,
                    now=now,
                )
                created += 1
    return created
