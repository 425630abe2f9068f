"""A case's single timeline: everything that happened on it, newest first, in a fixed number
of queries (one per kind of event, whatever the number of events).

Kinds: ``transition`` (CaseTransition), ``message`` and ``call`` (Message; calls are phone
messages with an outcome) with the guard's decisions on them, ``decision`` (a guard decision
that belongs to no message or call), ``payment``, ``promise``, ``note``, ``assessment``,
``legal_request`` and ``legal_decision``. Messages are the borrower's on the case's loan and those
tied to no loan; each kind keeps its newest ``LIMIT`` events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import aliased

from portal.auth.models import User
from portal.collections.models import (
    Assessment,
    CaseNote,
    CaseTransition,
    CollectionCase,
    LegalRequest,
    PromiseToPay,
)
from portal.extensions import db
from portal.loans.models import Payment
from portal.messaging.models import ContactDecisionRecord, Message

LIMIT = 500
# Among events at the same instant, the later step of one action comes first (newest first):
# e.g. the promise a call produced above the call.
_RANK = {
    "transition": 0,
    "payment": 1,
    "decision": 2,
    "call": 3,
    "message": 4,
    "promise": 5,
    "note": 6,
    "assessment": 7,
    "legal_request": 8,
    "legal_decision": 9,
}


@dataclass
class TimelineEntry:
    at: datetime
    kind: str
    item: Any
    actor: str | None = None
    decisions: list[ContactDecisionRecord] = field(default_factory=list)

    @property
    def sort_key(self) -> tuple:
        return (self.at, _RANK[self.kind], getattr(self.item, "id", 0))


def _messages_of(case: CollectionCase):
    return or_(Message.loan_id == case.loan_id, Message.loan_id.is_(None))


def case_timeline(case: CollectionCase) -> list[TimelineEntry]:
    """Every event of the case, newest first. Nine queries."""
    author = aliased(User)
    entries: list[TimelineEntry] = []

    def collect(kind: str, query, when) -> None:
        for row in db.session.execute(query.limit(LIMIT)):
            name = row[1] if len(row) > 1 else None
            entries.append(TimelineEntry(when(row[0]), kind, row[0], name))

    collect(
        "transition",
        select(CaseTransition, author.name)
        .outerjoin(author, author.id == CaseTransition.actor_id)
        .where(CaseTransition.case_id == case.id)
        .order_by(CaseTransition.id.desc()),
        lambda t: t.created_at,
    )
    messages = db.session.execute(
        select(Message, author.name)
        .outerjoin(author, author.id == Message.created_by)
        .where(Message.borrower_id == case.borrower_id, _messages_of(case))
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(LIMIT)
    ).all()
    by_id: dict[int, TimelineEntry] = {}
    calls: dict[tuple, TimelineEntry] = {}
    for message, name in messages:
        kind = "call" if message.call_outcome is not None else "message"
        entry = TimelineEntry(message.created_at, kind, message, name)
        entries.append(entry)
        by_id[message.id] = entry
        if kind == "call":
            calls[(message.created_at, message.created_by)] = entry
    case_message_ids = select(Message.id).where(
        Message.borrower_id == case.borrower_id, _messages_of(case)
    )
    decisions = db.session.execute(
        select(ContactDecisionRecord, author.name)
        .outerjoin(author, author.id == ContactDecisionRecord.decided_by)
        .where(
            ContactDecisionRecord.borrower_id == case.borrower_id,
            or_(
                ContactDecisionRecord.message_id.is_(None),
                ContactDecisionRecord.message_id.in_(case_message_ids),
            ),
        )
        .order_by(ContactDecisionRecord.decided_at.desc(), ContactDecisionRecord.id.desc())
        .limit(LIMIT)
    ).all()
    for decision, name in reversed(decisions):  # oldest first onto each message
        owner = (
            by_id.get(decision.message_id)
            if decision.message_id is not None
            else calls.get((decision.decided_at, decision.decided_by))  # the check before a call
        )
        if owner is not None:
            owner.decisions.append(decision)
        else:
            entries.append(TimelineEntry(decision.decided_at, "decision", decision, name))
    collect(
        "payment",
        select(Payment).where(Payment.loan_id == case.loan_id).order_by(Payment.id.desc()),
        lambda p: p.received_at,
    )
    collect(
        "promise",
        select(PromiseToPay, author.name)
        .outerjoin(author, author.id == PromiseToPay.created_by)
        .where(PromiseToPay.case_id == case.id)
        .order_by(PromiseToPay.id.desc()),
        lambda p: p.made_at,
    )
    collect(
        "note",
        select(CaseNote, author.name)
        .join(author, author.id == CaseNote.author_id)
        .where(CaseNote.case_id == case.id)
        .order_by(CaseNote.id.desc()),
        lambda n: n.created_at,
    )
    collect(
        "assessment",
        select(Assessment, author.name)
        .join(author, author.id == Assessment.author_id)
        .where(Assessment.case_id == case.id)
        .order_by(Assessment.id.desc()),
        lambda a: a.created_at,
    )
    decider = aliased(User)
    legal = db.session.execute(
        select(LegalRequest, author.name, decider.name)
        .join(author, author.id == LegalRequest.requested_by)
        .outerjoin(decider, decider.id == LegalRequest.decided_by)
        .where(LegalRequest.case_id == case.id)
        .order_by(LegalRequest.id.desc())
        .limit(LIMIT)
    ).all()
    for request, requester, decided_by in legal:
        entries.append(TimelineEntry(request.requested_at, "legal_request", request, requester))
        if request.decided_at is not None:
            entries.append(TimelineEntry(request.decided_at, "legal_decision", request, decided_by))
    entries.sort(key=lambda entry: entry.sort_key, reverse=True)
    return entries
