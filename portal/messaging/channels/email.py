"""Email over SMTP: multipart text + HTML, localized, with a signed one-click unsubscribe link."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formataddr

from flask import render_template
from flask_babel import force_locale

from portal.messaging.channels import DeliveryError
from portal.messaging.facts import BorrowerContext
from portal.messaging.models import Message
from portal.messaging.unsubscribe import unsubscribe_url

TRANSIENT_ERRORS = (
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    ConnectionError,
    TimeoutError,
    OSError,
)


class SmtpEmailChannel:
    """One SMTP connection per batch; reconnects once if the server dropped it."""

    def __init__(self, config: Mapping):
        self.host = config["SMTP_HOST"]
        self.port = config["SMTP_PORT"]
        self.username = config["SMTP_USERNAME"]
        self.password = config["SMTP_PASSWORD"]
        self.starttls = config["SMTP_STARTTLS"]
        self.mail_from = config["MAIL_FROM"]
        self.timeout = config.get("SMTP_TIMEOUT", 10)
        self._smtp: smtplib.SMTP | None = None

    def open(self) -> None:
        pass  # connect lazily: a batch without email opens no connection

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass  # the connection is going away either way
            self._smtp = None

    def _connect(self) -> smtplib.SMTP:
        try:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password)
        except smtplib.SMTPAuthenticationError as error:
            raise DeliveryError(f"SMTP login refused: {error.smtp_code}") from error
        except TRANSIENT_ERRORS as error:
            raise DeliveryError(f"SMTP server unreachable: {error}") from error
        return smtp

    def send(self, message: Message, borrower: BorrowerContext) -> str | None:
        if not message.recipient:
            raise DeliveryError("no email address", permanent=True)
        email = build_email(message, borrower, self.mail_from)
        for attempt in (1, 2):
            if self._smtp is None:
                self._smtp = self._connect()
            try:
                refused = self._smtp.send_message(email)
            except smtplib.SMTPRecipientsRefused as error:
                raise DeliveryError(
                    f"recipient refused: {error.recipients}", permanent=True
                ) from error
            except smtplib.SMTPResponseException as error:
                permanent = 500 <= error.smtp_code < 600
                if not permanent:
                    self.close()
                raise DeliveryError(
                    f"SMTP {error.smtp_code}: {error.smtp_error!r}", permanent=permanent
                ) from error
            except TRANSIENT_ERRORS as error:
                self.close()
                if attempt == 2:
                    raise DeliveryError(f"SMTP connection lost: {error}") from error
                continue
            if refused:
                raise DeliveryError(f"recipient refused: {refused}", permanent=True)
            return email["Message-ID"]
        return None  # unreachable: the loop returns or raises


def build_email(message: Message, borrower: BorrowerContext, mail_from: str) -> EmailMessage:
    """The MIME message for an outbox row; its Message-ID is the row's idempotency key."""
    link = unsubscribe_url(message.borrower_id, "email")
    with force_locale(message.locale):
        text = render_template("email/message.txt", message=message, unsubscribe_link=link)
        html = render_template("email/message.html", message=message, unsubscribe_link=link)
    email = EmailMessage()
    email["Subject"] = message.subject
    email["From"] = mail_from
    email["To"] = formataddr((borrower.name, message.recipient or ""))
    domain = mail_from.rsplit("@", 1)[-1].rstrip(">") or "settle.local"
    email["Message-ID"] = f"<{message.idempotency_key}@{domain}>"
    email["List-Unsubscribe"] = f"<{link}>"
    email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email["Content-Language"] = "zh-CN" if message.locale == "zh_CN" else "en"
    email.set_content(text)
    email.add_alternative(html, subtype="html")
    return email
