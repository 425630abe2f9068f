"""Phone calls: placed by collectors, asked of the guard first, then logged.

A call counts toward the rulebook's call limits as soon as it is logged, whatever its outcome, so
the guard's next answer already includes it.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l

from portal.auth.models import Channel
from portal.domain import DomainError
from portal.extensions import db
from portal.messaging.facts import load_borrower_contexts
from portal.messaging.guard import Decision, Outcome, decide
from portal.messaging.models import CallOutcome, ContactKind, Message, MessageStatus
from portal.messaging.outbox import BorrowerNotFound, decision_values, record_decision


class CallNotAllowed(DomainError):
    """The guard does not allow a call now; ``decision`` says why and until when, and
    ``refusal`` is its contact_decision row's values, to keep after the caller rolls back."""

    status_code = 409
    message = _l("The contact rules do not allow calling this borrower now.")

    def __init__(self, decision: Decision, refusal: dict | None = None):
        super().__init__()
        self.decision = decision
        self.refusal = refusal or {}


def keep_refusal(refusal: dict) -> None:
    """Record a refused call's guard decision again after the caller rolled back everything
    else: the call was not made, but that it was refused, and why, stays on the record. Flushes."""
    if refusal:
        record_decision(dict(refusal))
        db.session.flush()


def may_call(borrower_id: int, *, now: datetime, actor_id: int | None) -> Decision:
    """Ask the guard whether a collector may call now; the decision is recorded. Flushes."""
    return _decide_call(borrower_id, now=now, actor_id=actor_id)[0]


def _decide_call(borrower_id: int, *, now: datetime, actor_id: int | None):
    borrower = load_borrower_contexts({borrower_id}, now).get(borrower_id)
    if borrower is None:
        raise BorrowerNotFound()
    decision = decide(
        kind=ContactKind.COLLECTION,
        channel=Channel.PHONE,
        now=now,
        facts=borrower.facts(Channel.PHONE, now),
        rules=borrower.rulebook,
    )
    values = decision_values(
        None, decision, borrower, now, actor_id, channel=Channel.PHONE, kind=ContactKind.COLLECTION
    )
    record = record_decision(dict(values))
    db.session.flush()
    return decision, record, borrower, values


def log_call(
    borrower_id: int,
    *,
    outcome: CallOutcome,
    now: datetime,
    actor_id: int,
    loan_id: int | None = None,
    note: str = "",
) -> Message:
    """Record a call a collector made. Refused (CallNotAllowed) if the guard would not allow
    it at ``now``: the rules are checked for the call, not only before it. Flushes."""
    decision, record, borrower, values = _decide_call(borrower_id, now=now, actor_id=actor_id)
    if decision.outcome is not Outcome.SEND:
        raise CallNotAllowed(decision, values)
    call = Message(
        idempotency_key=uuid.uuid4().hex,
        borrower_id=borrower_id,
        loan_id=loan_id,
        purpose="collection_call",
        kind=ContactKind.COLLECTION,
        channel=Channel.PHONE,
        locale=borrower.locale or current_app.config["DEFAULT_LOCALE"],
        recipient=borrower.phone,
        body_text=note[:2000],
        status=MessageStatus.SENT,
        not_before=now,
        sent_at=now,
        attempts=1,
        call_outcome=outcome,
        created_by=actor_id,
        created_at=now,
    )
    db.session.add(call)
    db.session.flush()
    record.message_id = call.id  # the decision that allowed this call, linked to it
    db.session.flush()
    return call
