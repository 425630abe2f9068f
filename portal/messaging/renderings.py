"""Portal notices in every language: rendered when queued, shown in the reader's language.

The message row is the record of what was sent, in the borrower's language at the time. When a
portal notice is queued it is also rendered in each other supported language from the same facts
(``MessageRendering``), so a borrower who reads the portal in another language sees the notice
in that language, and what was shown stays provable: nothing is re-rendered later from a template
that may have changed since.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from portal.auth.models import Channel
from portal.config import SUPPORTED_LOCALES
from portal.extensions import db
from portal.messaging.models import Message, MessageRendering, MessageStatus
from portal.messaging.templates import RenderFailed, latest_version, render

# Variables for one locale: money and dates are formatted in the language they are read in.
Variables = dict[str, str] | Callable[[str], dict[str, str]]


def variables_in(variables: Variables, locale: str) -> dict[str, str]:
    """The variables as formatted for ``locale``."""
    return variables(locale) if callable(variables) else variables


def add_renderings(message: Message, variables: Variables, common: dict[str, str]) -> None:
    """Render a queued portal notice in every other language that has a template. Adds.

    A language without a portal template, or whose template cannot be filled, is skipped: the
    reader then sees the notice as it was sent.
    """
    if message.channel is not Channel.PORTAL or message.status is MessageStatus.BLOCKED:
        return
    for locale in SUPPORTED_LOCALES:
        if locale == message.locale:
            continue
        version = latest_version(message.purpose, Channel.PORTAL, locale)
        if version is None:
            continue
        try:
            rendered = render(version, {**common, **variables_in(variables, locale)})
        except RenderFailed:
            continue
        db.session.add(
            MessageRendering(
                message_id=message.id,
                locale=locale,
                template_version_id=version.id,
                subject=rendered.subject,
                body_text=rendered.body_text,
            )
        )


@dataclass(frozen=True)
class NoticeText:
    """What a reader sees of a notice: its subject and body in one language."""

    subject: str
    body_text: str
    locale: str


def text_in(message: Message, locale: str) -> NoticeText:
    """A notice in the reader's language when it was rendered in it, else as it was sent.

    Needs ``message.renderings`` loaded (``selectinload``).
    """
    if message.locale != locale:
        for rendering in message.renderings:
            if rendering.locale == locale:
                return NoticeText(rendering.subject, rendering.body_text, locale)
    return NoticeText(message.subject, message.body_text, message.locale)
