"""What the SMS provider tells us: delivery reports on our texts, and texts borrowers send us.

No HTTP here: ``routes.py`` beside this module checks the provider's signature and calls these.
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
a no-op. Numbers are matched exactly (E.164). An opt-out keyword (see ``OPT_OUT_KEYWORDS``)
opts every borrower with that phone out of SMS, and records the opt-out of every emergency
contact with that number: texts to any of them would reach the person who asked us to stop.
An opt-in keyword (``OPT_IN_KEYWORDS``: Twilio's own START, UNSTOP, YES, so that our record
agrees with the block Twilio keeps on its side) turns SMS back on for those borrowers and lifts
those contacts' opt-out. There is no Chinese opt-in keyword: carriers have no standard one, and
an accidental opt-in is worse than asking a borrower to use their settings page.
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
from portal.messaging.emergency_contacts.services import set_number_opt_out
from portal.messaging.models import InboundSms, Message, MessageStatus
from portal.messaging.preferences.services import set_channel_preference

# Compared after NFKC (full-width "ＳＴＯＰ" is "STOP"), trimming and case folding.
OPT_OUT_KEYWORDS = frozenset(
    {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "td", "t", "退订"}
)
OPT_IN_KEYWORDS = frozenset({"start", "unstop", "yes"})
DELIVERED = "delivered"
CARRIER_FAILURES = ("undelivered", "failed")
OPT_OUT_SOURCE = "sms_stop"
OPT_IN_SOURCE = "sms_start"


@dataclass(frozen=True)
class InboundResult:
    inbound: InboundSms
    duplicate: bool  # the provider delivered this message id before: nothing was done again
    opted_out: tuple[int, ...] = ()  # borrowers whose SMS preference this text turned off
    opted_in: tuple[int, ...] = ()  # borrowers whose SMS preference this text turned on again
    contacts_opted_out: tuple[int, ...] = ()  # emergency contacts now opted out
    contacts_opted_in: tuple[int, ...] = ()  # emergency contacts whose opt-out was lifted


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


def _keyword(body: str) -> str:
    return unicodedata.normalize("NFKC", body).strip().casefold()


def is_opt_out(body: str) -> bool:
    """Whether a text is one of the opt-out keywords, alone (trimmed, any case or width)."""
    return _keyword(body) in OPT_OUT_KEYWORDS


def is_opt_in(body: str) -> bool:
    """Whether a text is one of the opt-in keywords, alone (trimmed, any case or width)."""
    return _keyword(body) in OPT_IN_KEYWORDS


def receive_sms(
    provider_reference: str, from_number: str, body: str, *, now: datetime
) -> InboundResult:
    """Store an inbound text once and act on an opt-out or opt-in keyword. Flushes; the
    preference and contact changes are audited."""
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
    if is_opt_out(body):
        allowed, action, source = False, "opt_out", OPT_OUT_SOURCE
    elif is_opt_in(body):
        allowed, action, source = True, "opt_in", OPT_IN_SOURCE
    else:
        return InboundResult(inbound, duplicate=False)
    borrower_ids = db.session.scalars(
        select(BorrowerProfile.user_id)
        .where(BorrowerProfile.phone == inbound.from_number)
        .order_by(BorrowerProfile.user_id)
    ).all()
    changed = tuple(
        borrower_id
        for borrower_id in borrower_ids
        if set_channel_preference(borrower_id, Channel.SMS, allowed, now=now, source=source)
    )
    contacts = tuple(set_number_opt_out(inbound.from_number, not allowed, now=now, source=source))
    if not borrower_ids and not contacts:
        return InboundResult(inbound, duplicate=False)  # nothing of ours to change: kept only
    inbound.action = action
    # One borrower is the usual case; a shared phone has no single owner to name.
    inbound.borrower_id = borrower_ids[0] if len(borrower_ids) == 1 else None
    db.session.flush()
    if allowed:
        return InboundResult(inbound, False, opted_in=changed, contacts_opted_in=contacts)
    return InboundResult(inbound, False, opted_out=changed, contacts_opted_out=contacts)


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
