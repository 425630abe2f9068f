"""Email over SMTP: multipart text + HTML, localized, with a signed one-click unsubscribe link.

Contract of :class:`SmtpEmailChannel` (one instance serves one batch, see dispatch.py):

- ``send`` returns the Message-ID once the server accepted the message (250 after DATA), and
  otherwise raises ``DeliveryError``: ``permanent`` for a 5xx reply (a refused recipient, a
  rejected message) or an email that cannot be built, transient for 4xx replies and for network
  or TLS trouble, which the dispatcher retries with backoff.
- The envelope recipient is always ``message.recipient``, never an address parsed back out of a
  header, so a borrower's name cannot redirect an email.
- With ``SMTP_STARTTLS`` the connection is upgraded before anything else is said, the server's
  certificate is verified (against ``SMTP_CA_FILE`` if set, else the system store) and there is
  no fallback to plain text; credentials are only sent after that.
- If the server cannot be reached, the rest of the batch fails at once with the same reason
  instead of waiting ``SMTP_TIMEOUT`` per message; ``close()`` forgets it for the next batch.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from email import policy
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from flask import render_template
from flask_babel import force_locale

from portal.messaging.channels import DeliveryError
from portal.messaging.facts import BorrowerContext
from portal.messaging.models import Message
from portal.messaging.unsubscribe import unsubscribe_url
from portal.timeutil import utcnow

# 7bit: non-ASCII bodies go out as base64/quoted-printable. smtplib never asks for 8BITMIME, so
# a raw 8bit body (the default policy's choice for short UTF-8 lines) could be mangled in transit.
MAIL_POLICY = policy.SMTP.clone(cte_type="7bit")

# smtplib.SMTPException subclasses OSError, like ConnectionError, TimeoutError and ssl.SSLError.
NETWORK_ERRORS = (OSError,)


class SmtpEmailChannel:
    """One SMTP connection per batch; reconnects once if the server dropped it."""

    def __init__(self, config: Mapping):
        self.host = config["SMTP_HOST"]
        self.port = config["SMTP_PORT"]
        self.username = config["SMTP_USERNAME"]
        self.password = config["SMTP_PASSWORD"]
        self.starttls = config["SMTP_STARTTLS"]
        self.ca_file = config.get("SMTP_CA_FILE") or None
        self.mail_from = config["MAIL_FROM"]
        self.envelope_from = parseaddr(self.mail_from)[1]
        self.timeout = config.get("SMTP_TIMEOUT", 10)
        self._smtp: smtplib.SMTP | None = None
        self._unreachable: str | None = None  # why connecting failed during this batch

    def open(self) -> None:
        pass  # connect lazily: a batch without email opens no connection

    def close(self) -> None:
        self._disconnect()
        self._unreachable = None

    def _disconnect(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except NETWORK_ERRORS:
                self._smtp.close()  # the connection is going away either way
            self._smtp = None

    def _connect(self) -> smtplib.SMTP:
        if self._unreachable is not None:
            raise DeliveryError(self._unreachable)
        smtp = smtplib.SMTP(timeout=self.timeout)
        try:
            smtp.connect(self.host, self.port)
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context(cafile=self.ca_file))
            if self.username:
                smtp.login(self.username, self.password)
        except smtplib.SMTPAuthenticationError as error:
            smtp.close()
            self._unreachable = f"SMTP login refused: {error.smtp_code}"
            raise DeliveryError(self._unreachable) from error
        except NETWORK_ERRORS as error:
            smtp.close()
            self._unreachable = f"SMTP server unreachable: {error!r}"
            raise DeliveryError(self._unreachable) from error
        return smtp

    def send(self, message: Message, borrower: BorrowerContext) -> str | None:
        if not message.recipient:
            raise DeliveryError("no email address", permanent=True)
        try:
            email = build_email(message, borrower, self.mail_from)
        except (ValueError, HeaderParseError) as error:  # e.g. an address that cannot be one
            raise DeliveryError(f"cannot build the email: {error}", permanent=True) from error
        for attempt in (1, 2):
            if self._smtp is None:
                self._smtp = self._connect()
            try:
                self._smtp.send_message(
                    email, from_addr=self.envelope_from, to_addrs=[message.recipient]
                )
            except smtplib.SMTPRecipientsRefused as error:
                # Raised for a 4xx (greylisting, mailbox busy) as well as a 5xx: look at the code.
                codes = [code for code, _ in error.recipients.values()]
                raise DeliveryError(
                    f"recipient refused: {error.recipients!r}",
                    permanent=all(500 <= code < 600 for code in codes),
                ) from error
            except smtplib.SMTPResponseException as error:
                permanent = 500 <= error.smtp_code < 600
                if error.smtp_code == 421:  # the server is closing the connection
                    self._disconnect()
                raise DeliveryError(
                    f"SMTP {error.smtp_code}: {error.smtp_error!r}", permanent=permanent
                ) from error
            except smtplib.SMTPNotSupportedError as error:
                # e.g. a non-ASCII address and a server without SMTPUTF8: retrying cannot help.
                raise DeliveryError(f"SMTP: {error}", permanent=True) from error
            except NETWORK_ERRORS as error:
                self._disconnect()
                if attempt == 2:
                    raise DeliveryError(f"SMTP connection lost: {error!r}") from error
                continue  # an idle connection the server dropped: one fresh connection
            return email["Message-ID"]
        return None  # unreachable: the loop returns or raises


def _one_line(value: str) -> str:
    """Header text without line breaks (a name or subject must not start a new header)."""
    return " ".join(value.splitlines()).strip()


def build_email(message: Message, borrower: BorrowerContext, mail_from: str) -> EmailMessage:
    """The MIME message for an outbox row; its Message-ID is the row's idempotency key.

    Raises ValueError if the recipient is not a usable address.
    """
    link = unsubscribe_url(message.borrower_id, "email")
    with force_locale(message.locale):
        text = render_template("email/message.txt", message=message, unsubscribe_link=link)
        html = render_template("email/message.html", message=message, unsubscribe_link=link)
    email = EmailMessage(policy=MAIL_POLICY)
    email["Subject"] = _one_line(message.subject)
    email["From"] = mail_from
    # Address() quotes or encodes the name as needed; formataddr() output re-parsed by the
    # header registry can turn a name such as "张三 <x>" into a second address.
    email["To"] = Address(display_name=_one_line(borrower.name), addr_spec=message.recipient or "")
    email["Date"] = format_datetime(utcnow())
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "settle.local"
    email["Message-ID"] = f"<{message.idempotency_key}@{domain}>"
    email["List-Unsubscribe"] = f"<{link}>"
    email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email["Content-Language"] = "zh-CN" if message.locale == "zh_CN" else "en"
    email.set_content(text)
    email.add_alternative(html, subtype="html")
    return email
