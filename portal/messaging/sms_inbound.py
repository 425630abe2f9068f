"""What the SMS provider tells us: delivery reports on our texts, and texts borrowers send us.

No HTTP here: portal/messaging/webhooks.py checks the provider's signature and calls these.
Both functions flush and never commit; the route commits once.

Delivery reports (Twilio ``MessageStatus``):

- ``delivered``: the message becomes ``delivered`` with ``delivered_at`` (the first report wins).
- ``undelivered`` / ``failed``: the provider had accepted the text and a carrier then refused it.
  The message becomes ``dead`` with ``last_error = "carrier: <ErrorCode>"``, never ``failed``:
  ``failed`` rows are picked up again by the dispatcher, and an automatic resend of a text whose
  fate is unclear risks a double send. People decide from the dead-letter list instead.
  A failure report for a message already ``delivered`` is ignored (delivery is the fact).
- Anything else (``queued``, ``sent``...) is progress we do not track; reports for sids we do not
  know are ignored too.

Inbound texts are stored once per provider message id, so a provider retry of the same STOP is
a no-op. An opt-out keyword (see ``OPT_OUT_KEYWORDS``) from a number that is some borrower's
phone (exact E.164 match) opts every borrower with that phone out of SMS: texts to any of them
would reach the person who asked us to stop.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from portal.auth.models import BorrowerProfile, Channel
from portal.extensions import db
from portal.messaging.models import InboundSms, Message, MessageStatus
from portal.messaging.unsubscribe import set_channel_preference

# Compared after NFKC (full-width "ＳＴＯＰ" is "STOP"), trimming and case folding.
OPT_OUT_KEYWORDS = frozenset(
    {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "td", "t", "退订"}
)
DELIVERED = "delivered"
CARRIER_FAILURES = ("undelivered", "failed")
OPT_OUT_SOURCE = "sms_stop"


@dataclass(frozen=True)
class InboundResult:
    inbound: InboundSms
    duplicate: bool  # the provider delivered this message id before: nothing was done again
    opted_out: tuple[int, ...] = ()  # borrowers whose SMS preference this text turned off


def apply_delivery_report(
    provider_reference: str, status: str, error_code: str | None, *, now: datetime
) -> Message | None:
    """Record a delivery report on the SMS with this provider reference (see the module doc).

    Returns the message, or None when the reference names no SMS of ours. Flushes.
    """
    message = db.session.scalar(
        select(Message).where(
            Message.provider_reference == provider_reference, Message.channel == Channel.SMS
        )
    )
    if message is None:
        return None
    status = status.strip().lower()
    if status == DELIVERED and message.status is not MessageStatus.DELIVERED:
        message.status = MessageStatus.DELIVERED
        message.delivered_at = now
        message.last_error = None
    elif status in CARRIER_FAILURES and message.status is MessageStatus.SENT:
        message.status = MessageStatus.DEAD
        message.last_error = f"carrier: {(error_code or '').strip() or 'no error code'}"[:500]
    db.session.flush()
    return message


def is_opt_out(body: str) -> bool:
    """Whether a text is one of the opt-out keywords, alone (trimmed, any case or width)."""
    return unicodedata.normalize("NFKC", body).strip().casefold() in OPT_OUT_KEYWORDS


def receive_sms(
    provider_reference: str, from_number: str, body: str, *, now: datetime
) -> InboundResult:
    """Store an inbound text once and act on an opt-out keyword. Flushes, audits opt-outs."""
    inserted_id = _insert_once(
        provider_reference=provider_reference[:100],
        from_number=from_number.strip()[:20],
        body=body[:1600],
        received_at=now,
        action="none",
    )
    if inserted_id is None:
        # The insert conflicted with exactly this row, so it exists.
        existing = db.session.scalars(
            select(InboundSms).where(InboundSms.provider_reference == provider_reference[:100])
        ).one()
        return InboundResult(existing, duplicate=True)
    inbound = db.session.get_one(InboundSms, inserted_id)
    if not is_opt_out(body):
        return InboundResult(inbound, duplicate=False)
    borrower_ids = db.session.scalars(
        select(BorrowerProfile.user_id)
        .where(BorrowerProfile.phone == inbound.from_number)
        .order_by(BorrowerProfile.user_id)
    ).all()
    if not borrower_ids:
        return InboundResult(inbound, duplicate=False)  # not a number we text: kept, no action
    for borrower_id in borrower_ids:
        set_channel_preference(borrower_id, Channel.SMS, False, now=now, source=OPT_OUT_SOURCE)
    inbound.action = "opt_out"
    # One borrower is the usual case; a shared phone has no single owner to name.
    inbound.borrower_id = borrower_ids[0] if len(borrower_ids) == 1 else None
    db.session.flush()
    return InboundResult(inbound, duplicate=False, opted_out=tuple(borrower_ids))


def _insert_once(**values) -> int | None:
    """INSERT ... ON CONFLICT DO NOTHING: the new row's id, or None if the reference is known.

    Race-free without a savepoint: a concurrent delivery of the same message waits for the
    first transaction on the unique index and then inserts nothing.
    """
    dialect = db.session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(InboundSms)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["provider_reference"])
        .returning(InboundSms.id)
    )
    return db.session.scalar(statement)
