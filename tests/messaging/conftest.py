"""Messaging fixtures: default templates installed, a fixed clock, spy channel adapters."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal.auth.models import Channel
from portal.extensions import db
from portal.messaging.channels import DeliveryError

# 10:00 in Shanghai on a Saturday: inside every rulebook's contact window.
NOON_SHANGHAI = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


def install_defaults(purposes, locale: str, now: datetime = NOON_SHANGHAI) -> None:
    """The default texts of a few purposes in one locale, on every channel they install on
    (installing all of them would take seconds). Existing templates are kept."""
    from portal.messaging.default_templates import INSTALL_CHANNELS, default_for
    from portal.messaging.templates import latest_version, save_version

    for purpose in purposes:
        for channel in INSTALL_CHANNELS:
            if latest_version(purpose, channel, locale) is None:
                subject, body = default_for(purpose, channel, locale)
                save_version(
                    purpose_code=purpose,
                    channel=channel,
                    locale=locale,
                    subject=subject,
                    body_text=body,
                    body_html=None,
                    actor_id=None,
                    now=now,
                )


@pytest.fixture
def templates_installed(app):
    from portal.messaging.default_templates import install_default_templates

    with app.app_context():
        install_default_templates(now=NOON_SHANGHAI)
        db.session.commit()


class SpyChannel:
    """Records what it was asked to deliver; can be told to fail."""

    def __init__(self):
        self.sent: list[int] = []
        self.fail_with: DeliveryError | None = None

    def open(self):
        pass

    def close(self):
        pass

    def send(self, message, borrower):
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append(message.id)
        return f"spy-{message.id}"


@pytest.fixture
def spies():
    return {Channel.PORTAL: SpyChannel(), Channel.EMAIL: SpyChannel(), Channel.SMS: SpyChannel()}
