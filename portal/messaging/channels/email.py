"""Email over SMTP: multipart text + HTML, localized, with a signed one-click unsubscribe link.

Contract of :class:`SmtpEmailChannel` (one instance serves one batch, see dispatch.py):

- ``send`` returns the Message-ID once the server accepted the message (250 after DATA), and
  otherwise raises ``DeliveryError``: ``permanent`` for a 5xx reply (a refused recipient, a
  rejected message) or an email that cannot be built, transient for 4xx replies and for network
  or TLS trouble, which the dispatcher retries with backoff.
- The envelope recipient is always ``message.recipient``, never an address parsed back out of a
  header, so a borrower's name cannot redirect an email.
- With ``SMTP_STARTTLS`` the connection is upgraded before anything else is said, and with
  ``SMTP_SSL`` it is TLS from the first byte; either way the server's certificate is verified
  (against ``SMTP_CA_FILE`` if set, else the system store), there is no fallback to plain text,
  and credentials are only sent after that.
- If the server cannot be reached, the rest of the batch fails at once with the same reason
  instead of waiting ``SMTP_TIMEOUT`` per message; ``close()`` forgets it for the next batch.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, formataddr, parseaddr

from flask import current_app
from flask_babel import force_locale

from portal.messaging.channels import DeliveryError
from portal.messaging.facts import BorrowerContext
from portal.messaging.models import Message
from portal.messaging.unsubscribe.services import unsubscribe_url
from portal.timeutil import utcnow

# Headers go out as built here: encoded words are folded where they are made, and a long
# List-Unsubscribe URL is not moved to a continuation line (the default folds at 78).
HEADER_POLICY = compat32.clone(max_line_length=0)

# smtplib.SMTPException subclasses OSError, like ConnectionError, TimeoutError and ssl.SSLError.
NETWORK_ERRORS = (OSError,)


class _SMTP(smtplib.SMTP):
    """smtplib.SMTP whose connect() also sets the host that starttls() checks the certificate
    against (only the constructor does); connecting after construction lets us close the
    socket if the greeting or the handshake fails."""

    def connect(self, host="localhost", port=0, source_address=None):
        self._host = host
        return super().connect(host, port, source_address)


class _SMTPSSL(smtplib.SMTP_SSL):
    """The same for implicit TLS (``SMTP_SSL``): the handshake checks the host connected to."""

    def connect(self, host="localhost", port=0, source_address=None):
        self._host = host
        return super().connect(host, port, source_address)


class SmtpEmailChannel:
    """One SMTP connection per batch; reconnects once if the server dropped it."""

    def __init__(self, config: Mapping):
        self.host = config["SMTP_HOST"]
        self.port = config["SMTP_PORT"]
        self.username = config["SMTP_USERNAME"]
        self.password = config["SMTP_PASSWORD"]
        self.starttls = config["SMTP_STARTTLS"]
        self.implicit_tls = config.get("SMTP_SSL", False)
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
        smtp: smtplib.SMTP
        if self.implicit_tls:
            smtp = _SMTPSSL(timeout=self.timeout, context=self._tls_context())
        else:
            smtp = _SMTP(timeout=self.timeout)
        try:
            smtp.connect(self.host, self.port)
            if self.starttls:
                smtp.starttls(context=self._tls_context())
            if self.username:
                smtp.login(self.username, self.password)
        except BaseException as error:
            smtp.close()
            if isinstance(error, smtplib.SMTPAuthenticationError):
                self._unreachable = f"SMTP login refused: {error.smtp_code}"
            elif isinstance(error, NETWORK_ERRORS):
                self._unreachable = f"SMTP server unreachable: {error!r}"
            else:
                raise
            raise DeliveryError(self._unreachable) from error
        return smtp

    def _tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file)

    def send(self, message: Message, borrower: BorrowerContext) -> str | None:
        if not message.recipient:
            raise DeliveryError("no email address", permanent=True)
        try:
            email = build_email(message, borrower, self.mail_from)
        except ValueError as error:  # e.g. an address that cannot be one
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


def _plain(value: str) -> bool:
    # ASCII that a reader will not decode: "=?" would start an RFC 2047 encoded word.
    return value.isascii() and "=?" not in value


def _header(name: str, value: str) -> str:
    """Plain ASCII as is; anything else as RFC 2047 encoded words, folded between the words."""
    return value if _plain(value) else Header(value, "utf-8", header_name=name).encode()


def _mailbox(name: str, address: str) -> str:
    """``name <address>``: a plain ASCII name quoted if it must be, any other name encoded."""
    if _plain(name):
        return formataddr((name, address))
    return f"{_header('To', name)} <{address}>"


def build_email(message: Message, borrower: BorrowerContext, mail_from: str) -> MIMEMultipart:
    """The MIME message for an outbox row; its Message-ID is the row's idempotency key.

    multipart/alternative, text then HTML, both UTF-8 in base64 (7-bit clean: smtplib never
    asks the server for 8BITMIME). Built with the ``email.mime`` classes: headers are stored as
    given, where ``EmailMessage`` parses every header it is given, which made building an email
    cost more than sending it (see bench/messaging_dispatch.py). Names and subjects are made
    one line, and encoded here, never re-parsed, so a name cannot add a header or an address.
    Raises ValueError if the recipient is not a plain address.
    """
    recipient = message.recipient or ""
    if parseaddr(recipient)[1] != recipient or "@" not in recipient:
        raise ValueError(f"not an email address: {recipient!r}")
    link = unsubscribe_url(message.borrower_id, "email")
    # The Jinja environment directly, not render_template(): workers have no request, and the
    # app's context processors (page layout, CSRF form) need one and are useless in an email.
    env = current_app.jinja_env
    with force_locale(message.locale):
        text = env.get_template("email/message.txt").render(message=message, unsubscribe_link=link)
        html = env.get_template("email/message.html").render(message=message, unsubscribe_link=link)
    # A boundary that base64 (A-Z a-z 0-9 + / =) cannot produce, so none needs searching for.
    email = MIMEMultipart(
        "alternative", boundary=f"=_settle_{message.idempotency_key}", policy=HEADER_POLICY
    )
    email["Subject"] = _header("Subject", _one_line(message.subject))
    email["From"] = mail_from
    email["To"] = _mailbox(_one_line(borrower.name), recipient)
    email["Date"] = format_datetime(utcnow())
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "settle.local"
    email["Message-ID"] = f"<{message.idempotency_key}@{domain}>"
    email["List-Unsubscribe"] = f"<{link}>"
    email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email["Content-Language"] = "zh-CN" if message.locale == "zh_CN" else "en"
    email.attach(MIMEText(text, "plain", "utf-8"))
    email.attach(MIMEText(html, "html", "utf-8"))
    return email
