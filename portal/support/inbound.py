"""Texts from borrowers into the inbox: the same conversation as the chat, channel ``sms``.

Called by the SMS webhook after ``portal.messaging.sms.inbound.receive_sms`` stored the text and
acted on keywords: an opt-out or opt-in keyword never reaches the inbox, nor does a text from a
number that is no borrower's (or that several borrowers share: there is no one to answer).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select

from portal.auth.models import BorrowerProfile, User
from portal.extensions import db
from portal.messaging.models import InboundSms
from portal.support.conversations import Posted, post_message, start_conversation
from portal.support.models import SupportChannel, Topic


def deliver_inbound_text(inbound: InboundSms, *, now: datetime) -> Posted | None:
    """Put a stored inbound text (no keyword) in its borrower's open conversation, opening one
    in the queue (topic "other") if there is none. Returns the stored message, or None when
    the text is a keyword or no single borrower has that number. A provider retry of the same
    text is not stored twice (its provider id is the message's client id). Flushes."""
    if inbound.action != "none":
        return None
    owners = db.session.scalars(
        select(BorrowerProfile.user_id).where(BorrowerProfile.phone == inbound.from_number).limit(2)
    ).all()
    if len(owners) != 1:
        return None
    borrower = db.session.get_one(User, owners[0])
    if not borrower.is_active_account:
        return None
    inbound.borrower_id = borrower.id
    conversation = start_conversation(borrower, Topic.OTHER, now=now, channel=SupportChannel.SMS)
    db.session.flush()
    body = inbound.body.strip()[:2000] or "…"
    return post_message(
        conversation.id,
        author=borrower,
        body=body,
        client_id="sms:" + hashlib.sha256(inbound.provider_reference.encode()).hexdigest()[:40],
        now=now,
        channel=SupportChannel.SMS,
    )
