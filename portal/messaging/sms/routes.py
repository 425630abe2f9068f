"""Twilio's webhooks: delivery reports on our texts, and texts people send us (STOP, START...).

No session, no CSRF token: Twilio proves each request with ``X-Twilio-Signature``, an HMAC of
the URL it called and the POST parameters, keyed with our auth token. The URL is rebuilt from
PUBLIC_URL, because behind a proxy the host and scheme Flask sees are not the ones Twilio used.
A missing or wrong signature, or no SMS_AUTH_TOKEN configured, is a 403 and changes nothing.

The rules live in ``inbound.py`` beside this module; these routes parse, call one service, commit.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, current_app, request

from portal.extensions import csrf, db
from portal.messaging.channels.twilio import signature_is_valid
from portal.messaging.sms.inbound import apply_delivery_report, receive_sms
from portal.support.broadcast import broadcast_messages, broadcast_state
from portal.support.inbound import deliver_inbound_text
from portal.timeutil import utcnow

log = logging.getLogger(__name__)

bp = Blueprint("messaging_sms", __name__, url_prefix="/webhooks/sms")
csrf.exempt(bp)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _public_url() -> str:
    url = current_app.config["PUBLIC_URL"].rstrip("/") + request.path
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    return url


@bp.before_request
def verify_signature() -> None:
    """Refuse (403) anything Twilio did not sign, before a view reads a single parameter."""
    params = [(name, value) for name, values in request.form.lists() for value in values]
    signature = request.headers.get("X-Twilio-Signature")
    if not signature_is_valid(
        current_app.config.get("SMS_AUTH_TOKEN", ""), _public_url(), params, signature
    ):
        log.warning(
            "SMS webhook %s refused: %s signature",
            request.path,
            "bad" if signature else "missing",
        )
        abort(403)


def _empty_twiml() -> Response:
    return Response(EMPTY_TWIML, status=200, mimetype="text/xml")


def _required(*names: str) -> str:
    """The first of ``names`` present in the form (Twilio sends legacy aliases too), or 400."""
    for name in names:
        value = request.form.get(name, "").strip()
        if value:
            return value
    abort(400)


@bp.post("/status")
def status() -> Response:
    """A delivery report: MessageSid, MessageStatus, and ErrorCode for failures."""
    apply_delivery_report(
        _required("MessageSid", "SmsSid"),
        _required("MessageStatus", "SmsStatus"),
        request.form.get("ErrorCode"),
        now=utcnow(),
    )
    db.session.commit()
    return _empty_twiml()


@bp.post("/inbound")
def inbound() -> Response:
    """A text to our number: MessageSid, From, Body. Answers with TwiML that replies nothing.

    A text that is no keyword, from a borrower's number, joins that borrower's support
    conversation (portal/support/inbound.py) and is shown to the agent live."""
    now = utcnow()
    result = receive_sms(
        _required("MessageSid", "SmsSid"),
        _required("From"),
        request.form.get("Body", ""),
        now=now,
    )
    posted = None if result.duplicate else deliver_inbound_text(result.inbound, now=now)
    db.session.commit()
    if posted is not None and not posted.duplicate:
        conversation = posted.message.conversation
        broadcast_messages(conversation, [posted.message])
        broadcast_state([conversation])
    if result.inbound.action != "none" and not result.duplicate:
        log.info(
            "SMS %s (%s): %d borrower(s), %d emergency contact(s) changed",
            result.inbound.provider_reference,
            result.inbound.action,
            len(result.opted_out or result.opted_in),
            len(result.contacts_opted_out or result.contacts_opted_in),
        )
    return _empty_twiml()
