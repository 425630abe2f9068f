"""Processor events (Stripe's webhooks, or the sandbox's equivalent): each one processed once.

``process_event`` stores the event by its id *first* (INSERT ... ON CONFLICT DO NOTHING), then
runs its handler in the same transaction. A second delivery, or a concurrent one, cannot store
the id again: on PostgreSQL the second INSERT waits for the first transaction and then inserts
nothing, so the event is reported as a duplicate and nothing is booked twice. A handler that
cannot act yet (an event about a payment that has not arrived) raises ``EventNotReady``; the
caller rolls back, so nothing is stored, and the webhook answers so that the processor delivers
it again later.

Handlers never trust the order of events: each looks at the state it finds (a decline that
arrives after the success is ignored; a success is booked whatever came before it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from sqlalchemy import update

from portal.extensions import db
from portal.payments import refunds
from portal.payments.events import disputes, intents
from portal.payments.events.errors import EventNotReady, MalformedEvent
from portal.payments.models import ProcessorEvent, Provider
from portal.sqlutil import insert_unless_present

__all__ = ["HANDLERS", "EventNotReady", "MalformedEvent", "process_event"]

Handler = Callable[[Mapping, datetime], str]

HANDLERS: dict[str, Handler] = {
    "payment_intent.succeeded": intents.on_succeeded,
    "payment_intent.processing": intents.on_processing,
    "payment_intent.payment_failed": intents.on_payment_failed,
    "payment_intent.canceled": intents.on_canceled,
    "charge.refunded": refunds.on_charge_refunded,
    "charge.dispute.created": disputes.on_dispute_created,
    "charge.dispute.closed": disputes.on_dispute_closed,
}

DUPLICATE = "duplicate"
IGNORED = "ignored"  # a type the portal does not act on; stored so it is not processed again


def process_event(event: Mapping, *, provider: Provider, now: datetime) -> str:
    """Store ``event`` once and act on it; returns the outcome (also stored on the event).

    Raises MalformedEvent, or EventNotReady (the caller rolls back: nothing is stored).
    Flushes; the caller commits.
    """
    event_id, event_type, obj = _envelope(event)
    handler = HANDLERS.get(event_type)
    first_time = insert_unless_present(
        ProcessorEvent,
        {
            "id": event_id,
            "provider": provider,
            "type": event_type,
            "object_id": str(obj.get("id") or "")[:255] or None,
            "created": _timestamp(event.get("created"), now),
            "received_at": now,
            "outcome": "processing",
            "payload": json.dumps(event, sort_keys=True, default=str),
        },
    )
    if not first_time:
        return DUPLICATE
    outcome = handler(obj, now) if handler else IGNORED
    db.session.flush()
    db.session.execute(
        update(ProcessorEvent).where(ProcessorEvent.id == event_id).values(outcome=outcome)
    )
    return outcome


def _envelope(event: Mapping) -> tuple[str, str, Mapping]:
    try:
        event_id, event_type = event["id"], event["type"]
        obj = event["data"]["object"]
    except (KeyError, TypeError) as missing:
        raise MalformedEvent(f"not an event: {missing!r} missing") from None
    if not (isinstance(event_id, str) and 0 < len(event_id) <= 255):
        raise MalformedEvent("the event id is not a string of 1-255 characters")
    if not isinstance(event_type, str) or not isinstance(obj, Mapping):
        raise MalformedEvent("the event type or object has the wrong shape")
    return event_id, event_type[:100], obj


def _timestamp(value: object, default: datetime) -> datetime:
    if isinstance(value, int) and 0 < value < 2**33:
        return datetime.fromtimestamp(value, UTC)
    return default
