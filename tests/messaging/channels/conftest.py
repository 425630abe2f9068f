"""A real SMTP server for tests (aiosmtpd on 127.0.0.1) that records what it accepts.

``SmtpSink`` runs in a thread of the test process. Each accepted message is parsed with the
modern email policy, so headers come back decoded. Refusals are scripted per reply:
``refuse_rcpt`` / ``refuse_data`` hold an SMTP reply line (``"550 5.1.1 No such user"``) to
send instead of accepting; ``on_data`` may be set to a callable run for each DATA that returns
such a reply or None (the crash test uses it to kill the worker).
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from portal.auth.models import Channel
from portal.extensions import db
from portal.messaging.default_templates import install_default_templates
from portal.messaging.models import Message
from portal.messaging.outbox import enqueue

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port nobody listens on right now (aiosmtpd cannot bind port 0 itself)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@dataclass
class Received:
    envelope_from: str
    envelope_to: list[str]
    raw: bytes
    message: EmailMessage
    tls: bool


@dataclass
class SmtpSink:
    """The aiosmtpd handler: records accepted messages and plays scripted refusals."""

    port: int = 0
    messages: list[Received] = field(default_factory=list)
    refuse_rcpt: str | None = None
    refuse_data: str | None = None
    on_data: Callable[[int], str | None] | None = None
    data_commands: int = 0  # every DATA seen, accepted or not
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.refuse_rcpt:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        with self._lock:
            self.data_commands += 1
            number = self.data_commands
        if self.on_data is not None:
            reply = self.on_data(number)
            if reply is not None:
                return reply
        if self.refuse_data:
            return self.refuse_data
        raw = envelope.original_content or envelope.content
        parsed = message_from_bytes(raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self._lock:
            self.messages.append(
                Received(
                    envelope_from=envelope.mail_from,
                    envelope_to=list(envelope.rcpt_tos),
                    raw=raw,
                    message=parsed,
                    tls=session.ssl is not None,
                )
            )
        return "250 Message accepted for delivery"

    def message_ids(self) -> list[str]:
        with self._lock:
            return [str(received.message["Message-ID"]) for received in self.messages]


@contextmanager
def running_sink(
    *,
    tls_context: ssl.SSLContext | None = None,
    authenticator: Callable | None = None,
) -> Iterator[SmtpSink]:
    """Serve an ``SmtpSink`` on a free port for the duration of the block.

    With ``tls_context`` the server offers STARTTLS and requires it before MAIL; with
    ``authenticator`` (aiosmtpd's callable) it also requires AUTH, which aiosmtpd only accepts
    over TLS.
    """
    sink = SmtpSink(port=free_port())
    options: dict = {}
    if tls_context is not None:
        options.update(tls_context=tls_context, require_starttls=True)
    if authenticator is not None:
        options.update(authenticator=authenticator, auth_required=True)
    controller = Controller(sink, hostname=HOST, port=sink.port, **options)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


def parts(message: EmailMessage) -> dict[str, str]:
    """The decoded text of each part of a multipart/alternative email, by content type."""
    return {
        part.get_content_type(): part.get_content()
        for part in message.iter_parts()
        if isinstance(part, EmailMessage)
    }


REMINDER_VARIABLES = {
    "loan_reference": "LN-T00001",
    "due_date": "2026-12-01",
    "amount_due": "¥500.00",
    "pay_url": "http://127.0.0.1:5000/pay",
}
RECEIPT_VARIABLES = {
    "loan_reference": "LN-T00001",
    "amount_paid": "¥500.00",
    "paid_at": "2026-11-28",
    "outstanding": "¥2,500.00",
    "allocation_summary": "第 1 期 · 本金：¥500.00",
    "receipt_url": "http://127.0.0.1:5000/payments/receipts/1",
}


def queue_email(borrower_id: int, now, purpose_code: str = "pre_due_reminder") -> Message:
    """Enqueue one email with the default templates (installed on first use) and commit."""
    install_default_templates(now=now)
    variables = RECEIPT_VARIABLES if purpose_code == "payment_receipt" else REMINDER_VARIABLES
    message = enqueue(
        borrower_id=borrower_id,
        purpose_code=purpose_code,
        channel=Channel.EMAIL,
        variables=variables,
        now=now,
    )
    db.session.commit()
    return message
