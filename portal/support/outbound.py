"""An agent's reply by text goes through the outbox, and so through the contact-rules guard.

A reply is free text, not a template, so it does not go through ``outbox.enqueue`` (which
renders a purpose's template); it builds the same outbox row and asks the same guard, records
the decision the same way, and the dispatcher asks the guard again when it sends. A reply
written at 23:00 in the borrower's zone waits (``not_before``) for the next allowed hour; one
to a borrower who opted out of texts is blocked. The agent sees which and why.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from portal.auth.models import Channel
from portal.extensions import db
from portal.messaging.channels.sms import OPT_OUT_LINES, needs_opt_out
from portal.messaging.content_check import find_violations
from portal.messaging.facts import load_borrower_contexts
from portal.messaging.guard import Decision, Outcome
from portal.messaging.models import ContactDecisionRecord, ContactKind, Message, MessageStatus
from portal.messaging.outbox import (
    BorrowerNotFound,
    apply_decision,
    decision_values,
    guard_decision,
    record_decision,
)

SUPPORT_REPLY_PURPOSE = "support_reply"
# A reply the borrower asked for by writing to us, not a collection contact; every opt-out,
# hold, cap and quiet hour still applies (only required notices pass those).
SUPPORT_REPLY_KIND = ContactKind.REMINDER


@dataclass(frozen=True)
class DeliveryState:
    """What became of a reply sent by text, as the agent sees it."""

    status: MessageStatus
    rule: str | None  # the guard's rule: quiet_hours, opt_out:sms...
    not_before: datetime | None  # when a deferred reply will go
    deferred: bool


def enqueue_sms_reply(borrower_id: int, body: str, *, agent_id: int, now: datetime) -> Message:
    """Queue ``body`` as a text to the borrower's phone, as the guard decides: queued now,
    deferred (queued with a later ``not_before``) or blocked. Flushes; the caller commits.
    Raises BorrowerNotFound."""
    borrower = load_borrower_contexts({borrower_id}, now).get(borrower_id)
    if borrower is None:
        raise BorrowerNotFound()
    locale = borrower.locale or "zh_CN"
    body_text = body
    if needs_opt_out(Channel.SMS, SUPPORT_REPLY_KIND):
        body_text = f"{body}\n{OPT_OUT_LINES.get(locale, OPT_OUT_LINES['zh_CN'])}"
    message = Message(
        idempotency_key=uuid.uuid4().hex,
        borrower_id=borrower_id,
        purpose=SUPPORT_REPLY_PURPOSE,
        kind=SUPPORT_REPLY_KIND,
        channel=Channel.SMS,
        locale=locale,
        recipient=borrower.address_for(Channel.SMS),
        subject="",
        body_text=body_text,
        status=MessageStatus.QUEUED,
        not_before=now,
        attempts=0,
        created_by=agent_id,
        created_at=now,
    )
    if find_violations(body, locale, third_party=False):
        decision = Decision(Outcome.BLOCK, "content_check")
    else:
        decision = guard_decision(message, borrower, now)
    apply_decision(message, decision)
    db.session.add(message)
    db.session.flush()
    record_decision(decision_values(message, decision, borrower, now, agent_id))
    return message


def delivery_states(message_ids: set[int], *, now: datetime) -> dict[int, DeliveryState]:
    """Each outbox message's state and the guard's latest rule on it, in two queries."""
    if not message_ids:
        return {}
    messages = db.session.scalars(select(Message).where(Message.id.in_(message_ids))).all()
    rules = dict(
        db.session.execute(
            select(ContactDecisionRecord.message_id, ContactDecisionRecord.rule)
            .where(ContactDecisionRecord.message_id.in_(message_ids))
            .order_by(ContactDecisionRecord.id)
        ).all()
    )  # later decisions overwrite earlier ones: the latest wins
    return {
        m.id: DeliveryState(
            status=m.status,
            rule=m.blocked_rule or rules.get(m.id),
            not_before=m.not_before,
            deferred=m.status is MessageStatus.QUEUED and m.not_before > now,
        )
        for m in messages
    }
