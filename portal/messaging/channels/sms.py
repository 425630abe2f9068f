"""SMS adapters: ``log`` (default: records what would be sent) and ``twilio`` (the REST API)."""

from __future__ import annotations

from collections.abc import Mapping

from portal.auth.models import Channel
from portal.extensions import db
from portal.messaging.channels import ChannelAdapter, DeliveryError
from portal.messaging.facts import BorrowerContext
from portal.messaging.models import ContactKind, Message, SmsLog
from portal.timeutil import utcnow

# How to stop them, at the end of every text that is not a required notice; the replies
# (STOP, TD...) are handled in portal/messaging/sms/inbound.py.
OPT_OUT_LINES = {"zh_CN": "回复TD退订", "en": "Reply STOP to opt out."}


def needs_opt_out(channel: Channel, kind: ContactKind) -> bool:
    """Whether a message must carry the opt-out line: texts, except required notices."""
    return channel is Channel.SMS and kind is not ContactKind.REQUIRED_NOTICE


class LogSmsChannel:
    """Writes the text to ``sms_log`` instead of a provider, so the demo shows what went out."""

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def send(self, message: Message, borrower: BorrowerContext) -> str | None:
        """Add the ``sms_log`` row (flushed; committed with the message) and return ``log-<id>``."""
        if not message.recipient:
            raise DeliveryError("no phone number", permanent=True)
        db.session.add(
            SmsLog(
                message_id=message.id,
                to_number=message.recipient,
                body=message.body_text,
                logged_at=utcnow(),
            )
        )
        db.session.flush()
        return f"log-{message.id}"


def build_sms_adapter(config: Mapping) -> ChannelAdapter:
    """The adapter SMS_PROVIDER names; ValueError for any other (config.validate refuses it)."""
    provider = config.get("SMS_PROVIDER", "log")
    if provider == "log":
        return LogSmsChannel()
    if provider == "twilio":
        from portal.messaging.channels.twilio import TwilioSmsChannel

        return TwilioSmsChannel(config)
    raise ValueError(f"unknown SMS_PROVIDER {provider!r}")
