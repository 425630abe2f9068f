"""Channels behind one interface. Each adapter delivers one outbox message or raises DeliveryError.

Adapters are chosen by configuration: in-portal notices need nothing; email goes over SMTP; SMS
goes through a provider adapter (``log`` by default, which records what would have been sent).
Phone calls are placed by people and logged (portal/messaging/calls.py), never dispatched.
"""

from __future__ import annotations

from typing import Protocol

from flask import Flask

from portal.auth.models import Channel
from portal.messaging.facts import BorrowerContext
from portal.messaging.models import Message

# The channels the outbox delivers (phone calls are placed by people, never dispatched): the
# dispatcher, reminders, default templates and the template editor all use these.
DISPATCHED_CHANNELS = (Channel.PORTAL, Channel.EMAIL, Channel.SMS)


class DeliveryError(Exception):
    """Delivery failed. ``permanent`` failures are not retried (a refused address, say)."""

    def __init__(self, reason: str, *, permanent: bool = False):
        super().__init__(reason)
        self.reason = reason[:500]
        self.permanent = permanent


class ChannelAdapter(Protocol):
    def open(self) -> None:
        """Prepare for a batch (open a connection); called before the first send."""

    def close(self) -> None:
        """Release what open() took; called after the batch, also after errors."""

    def send(self, message: Message, borrower: BorrowerContext) -> str | None:
        """Deliver ``message``; return the provider's reference, if it gives one."""
        ...


class PortalChannel:
    """In-portal notices: marking the message sent is what makes it visible to the borrower."""

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def send(self, message: Message, borrower: BorrowerContext) -> str | None:
        return None


def build_adapters(app: Flask) -> dict[Channel, ChannelAdapter]:
    from portal.messaging.channels.email import SmtpEmailChannel
    from portal.messaging.channels.sms import build_sms_adapter

    return {
        Channel.PORTAL: PortalChannel(),
        Channel.EMAIL: SmtpEmailChannel(app.config),
        Channel.SMS: build_sms_adapter(app.config),
    }
