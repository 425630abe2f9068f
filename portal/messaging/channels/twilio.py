"""Twilio's Programmable Messaging REST API: sending texts and checking its webhook signatures.

Sending is ``POST {SMS_API_BASE}/2010-04-01/Accounts/{SID}/Messages.json`` with HTTP Basic auth
(account SID, auth token). Twilio answers 201 with the message ``sid``, which becomes the outbox
row's ``provider_reference``; status callbacks (portal/messaging/sms/routes.py) name it.

How failures are classified (the dispatcher retries transient ones with backoff):

- 429, 5xx, connection errors and timeouts: transient.
- 401, 403, 404: our account, credentials or SMS_API_BASE are wrong, not the number; transient,
  so messages wait for the configuration to be fixed instead of being dead-lettered at once.
- Any other 4xx (21211 invalid number, 21610 recipient replied STOP, 21614 not a mobile...):
  permanent; the same request would be refused again.

Twilio's Messages API takes no idempotency key, so a read timeout after Twilio accepted a text
leads to a second text on retry. That is the at-least-once trade the dispatcher documents; the
timeouts below are generous enough that it stays rare.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import Iterable, Mapping

import requests

from portal.messaging.channels import DeliveryError
from portal.messaging.facts import BorrowerContext
from portal.messaging.models import Message

log = logging.getLogger(__name__)

API_VERSION = "2010-04-01"
STATUS_CALLBACK_PATH = "/webhooks/sms/status"
# (connect, read) seconds: a worker must never hang on a slow provider.
DEFAULT_TIMEOUT = (5.0, 20.0)
CONFIGURATION_STATUSES = (401, 403, 404)
KNOWN_CODES = {
    21211: "invalid phone number",
    21610: "recipient unsubscribed (replied STOP)",
    21612: "number cannot be reached",
    21614: "not a mobile number",
}


class TwilioSmsChannel:
    """Sends each outbox text with one ``requests.Session`` per dispatch batch."""

    def __init__(self, config: Mapping, *, timeout: tuple[float, float] = DEFAULT_TIMEOUT):
        self.account_sid = config["SMS_ACCOUNT_SID"]
        self.auth_token = config["SMS_AUTH_TOKEN"]
        self.from_number = config["SMS_FROM"]
        base = config["SMS_API_BASE"].rstrip("/")
        self.messages_url = f"{base}/{API_VERSION}/Accounts/{self.account_sid}/Messages.json"
        self.status_callback = config["PUBLIC_URL"].rstrip("/") + STATUS_CALLBACK_PATH
        self.timeout = timeout
        self._session: requests.Session | None = None

    def open(self) -> None:
        self._opened()

    def _opened(self) -> requests.Session:
        if self._session is None:
            self._session = requests.Session()
            self._session.auth = (self.account_sid, self.auth_token)
        return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def send(self, message: Message, borrower: BorrowerContext) -> str | None:
        """POST the text; return Twilio's message sid. Raises DeliveryError (see the module doc)."""
        if not message.recipient:
            raise DeliveryError("no phone number", permanent=True)
        session = self._opened()  # the dispatcher opened it; this only guards direct use
        try:
            response = session.post(
                self.messages_url,
                data={
                    "To": message.recipient,
                    "From": self.from_number,
                    "Body": message.body_text,
                    "StatusCallback": self.status_callback,
                },
                timeout=self.timeout,
            )
        except requests.Timeout as error:
            raise DeliveryError(f"twilio: timed out ({type(error).__name__})") from error
        except requests.RequestException as error:
            raise DeliveryError(f"twilio: unreachable ({type(error).__name__})") from error
        if 200 <= response.status_code < 300:
            return _sid_of(response, message)
        raise _delivery_error(response)


def _sid_of(response: requests.Response, message: Message) -> str | None:
    try:
        sid = response.json().get("sid")
    except (ValueError, AttributeError):
        sid = None
    if not sid:
        # Twilio took the text: retrying would send it twice, so it counts as sent, untracked.
        log.warning("Twilio accepted message %s without a sid in its answer", message.id)
        return None
    return str(sid)


def _delivery_error(response: requests.Response) -> DeliveryError:
    status = response.status_code
    try:
        payload = response.json()
        code = payload.get("code")
        detail = str(payload.get("message") or "")
    except (ValueError, AttributeError):
        code, detail = None, ""
    known = KNOWN_CODES.get(code) if isinstance(code, int) else None
    reason = f"twilio {status}" + (f" error {code}" if code else "") + f": {known or detail}"
    if status == 429 or status >= 500:
        return DeliveryError(reason)
    if status in CONFIGURATION_STATUSES:
        return DeliveryError(reason + " (check SMS_ACCOUNT_SID, SMS_AUTH_TOKEN, SMS_API_BASE)")
    return DeliveryError(reason, permanent=True)


def request_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """Twilio's X-Twilio-Signature for a form POST: base64(HMAC-SHA1(token, url + params)).

    The parameters are sorted by name (then value, as Twilio's own libraries do for repeated
    names) and appended as name followed by value, with no separators.
    """
    payload = url + "".join(name + value for name, value in sorted(set(params)))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signature_is_valid(
    auth_token: str, url: str, params: Iterable[tuple[str, str]], signature: str | None
) -> bool:
    """Whether ``signature`` is Twilio's for this request; False without a token or signature."""
    if not auth_token or not signature:
        return False  # with an empty key anyone could compute a "valid" signature
    expected = request_signature(auth_token, url, params)
    return hmac.compare_digest(expected.encode(), signature.encode())
