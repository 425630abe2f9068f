"""Stripe's webhook: ``POST /webhooks/stripe`` (blueprint ``payments_webhooks``).

No session and no CSRF token: Stripe proves each request with ``Stripe-Signature``, checked by
``stripe.Webhook.construct_event`` against STRIPE_WEBHOOK_SECRET (and its 5-minute tolerance, so
an old request replayed later is refused). A missing, wrong or expired signature is a 400 and
stores nothing. Answers: 200 once the event is processed (or was already), 409 when it is about
something not here yet (Stripe delivers it again later), 400 for what is not an event.
"""

from __future__ import annotations

import json
import logging

import stripe
from flask import Blueprint, abort, current_app, jsonify, request

from portal.extensions import csrf, db, limiter
from portal.payments.events import EventNotReady, MalformedEvent, process_event
from portal.payments.models import Provider
from portal.timeutil import utcnow

log = logging.getLogger(__name__)

bp = Blueprint("payments_webhooks", __name__, url_prefix="/webhooks")
csrf.exempt(bp)
limiter.exempt(bp)  # Stripe's retries must never be refused; the signature is the gate


def verified_event(payload: bytes, signature: str | None) -> dict:
    """The event, if Stripe signed this payload recently; 400 otherwise (before any parsing)."""
    secret = current_app.config["STRIPE_WEBHOOK_SECRET"]
    if not secret or not signature:
        log.warning("Stripe webhook refused: %s", "no secret" if not secret else "no signature")
        abort(400)
    try:
        event = json.loads(payload)
        if not isinstance(event, dict):  # the library assumes an object; anything else is 400
            raise ValueError("not a JSON object")
        stripe.Webhook.construct_event(payload, signature, secret)
    except (ValueError, stripe.SignatureVerificationError) as refused:
        log.warning("Stripe webhook refused: %s", type(refused).__name__)
        abort(400)
    return event


@bp.post("/stripe")
def stripe_webhook():
    event = verified_event(request.get_data(cache=False), request.headers.get("Stripe-Signature"))
    try:
        outcome = process_event(event, provider=Provider.STRIPE, now=utcnow())
    except MalformedEvent as malformed:
        db.session.rollback()
        log.warning("Stripe webhook: %s", malformed)
        abort(400)
    except EventNotReady as not_ready:
        db.session.rollback()
        log.info("Stripe webhook %s deferred: %s", event.get("id"), not_ready)
        return jsonify(received=False, retry=True), 409
    db.session.commit()
    return jsonify(received=True, outcome=outcome)
