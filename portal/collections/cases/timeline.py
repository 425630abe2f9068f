"""A case's single timeline: everything that happened on it, newest first, in a fixed number
of queries (one per kind of event, whatever the number of events).

Kinds: ``transition`` (CaseTransition), ``message`` and ``call`` (Message; calls are phone
messages with an outcome) with the guard's decisions on them, ``refused_call`` (a call the guard
refused: its decision, kept without a call), ``decision`` (any other guard decision that belongs
to no message or call), ``callback`` (a callback scheduled, from the audit log), ``payment``,
``adjustment`` (a waiver or rebate on the loan, with its reason), ``promise``, ``note``,
``assessment``, ``legal_request`` and ``legal_decision``, ``hold`` and ``hold_released`` (a
contact hold of the borrower opened and closed: a dispute, a complaint, a hardship review).
Messages are the borrower's on the case's loan and those tied to no loan; each kind keeps its
newest ``LIMIT`` events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import aliased

from portal.audit.models import AuditEvent
from portal.auth.models import Channel, User
from portal.collections.models import (
    Assessment,
    CaseNote,
    CaseTransition,
    CollectionCase,
    LegalRequest,
    PromiseToPay,
)
from portal.extensions import db
from portal.loans.models import LedgerAdjustment, Payment
from portal.messaging.models import ContactDecisionRecord, ContactHold, Message

LIMIT = 500
# Among events at the same instant, the later step of one action comes first (newest first):
# e.g. the promise a call produced above the call.
_RANK = {
    "transition": 0,
    "payment": 1,
    "adjustment": 1,
    "decision": 2,
    "refused_call": 2,
    "call": 3,
    "message": 4,
    "promise": 5,
    "callback": 6,
    "note": 7,
    "assessment": 8,
    "legal_request": 9,
    "legal_decision": 10,
    "hold": 2,
    "hold_released": 2,
}
CALLBACK_SET = "case.callback_set"  # the audit action set_callback records


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


@dataclass(frozen=True)
class ScheduledCallback:
    """A callback as it was scheduled: for when (UTC), set in the audit event ``id``."""

    id: int
    callback_at: datetime


def _messages_of(case: CollectionCase):
    return or_(Message.loan_id == case.loan_id, Message.loan_id.is_(None))


def case_timeline(case: CollectionCase) -> list[TimelineEntry]:
    """Every event of the case, newest first. Twelve queries, whatever the number of events."""
    entries = _transitions(case)
    by_id, calls = _messages(case, entries)
    _decisions(case, entries, by_id, calls)
    _records(case, entries)
    _legal(case, entries)
    _callbacks(case, entries)
    _holds(case, entries)
    entries.sort(key=lambda entry: entry.sort_key, reverse=True)
    return entries


def _collect(entries: list[TimelineEntry], kind: str, query, when) -> None:
    """One query of ``(item, author name)`` rows (or items alone) onto the timeline."""
    for row in db.session.execute(query.limit(LIMIT)):
        name = row[1] if len(row) > 1 else None
        entries.append(TimelineEntry(when(row[0]), kind, row[0], name))


def _transitions(case: CollectionCase) -> list[TimelineEntry]:
    author = aliased(User)
    entries: list[TimelineEntry] = []
    _collect(
        entries,
        "transition",
        select(CaseTransition, author.name)
        .outerjoin(author, author.id == CaseTransition.actor_id)
        .where(CaseTransition.case_id == case.id)
        .order_by(CaseTransition.id.desc()),
        lambda t: t.created_at,
    )
    return entries


def _messages(case: CollectionCase, entries: list[TimelineEntry]):
    """Messages and calls; returns them by id, and calls by (time, caller) for their checks."""
    author = aliased(User)
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
    return by_id, calls


def _decisions(case: CollectionCase, entries: list[TimelineEntry], by_id: dict, calls: dict):
    """Each guard decision onto its message or call; a refused call's alone as its own entry."""
    author = aliased(User)
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
            entries.append(TimelineEntry(decision.decided_at, _kind_of(decision), decision, name))


def _kind_of(decision: ContactDecisionRecord) -> str:
    refused = decision.outcome != "send" and decision.message_id is None
    return "refused_call" if refused and decision.channel is Channel.PHONE else "decision"


def _records(case: CollectionCase, entries: list[TimelineEntry]) -> None:
    """Payments, adjustments, promises, notes and assessments: one query each."""
    author = aliased(User)
    _collect(
        entries,
        "payment",
        select(Payment).where(Payment.loan_id == case.loan_id).order_by(Payment.id.desc()),
        lambda p: p.received_at,
    )
    _collect(
        entries,
        "adjustment",
        select(LedgerAdjustment, author.name)
        .outerjoin(author, author.id == LedgerAdjustment.actor_id)
        .where(LedgerAdjustment.loan_id == case.loan_id)
        .order_by(LedgerAdjustment.id.desc()),
        lambda a: a.created_at,
    )
    for kind, model, by, when in (
        ("promise", PromiseToPay, PromiseToPay.created_by, lambda p: p.made_at),
        ("note", CaseNote, CaseNote.author_id, lambda n: n.created_at),
        ("assessment", Assessment, Assessment.author_id, lambda a: a.created_at),
    ):
        _collect(
            entries,
            kind,
            select(model, author.name)
            .outerjoin(author, author.id == by)
            .where(model.case_id == case.id)
            .order_by(model.id.desc()),
            when,
        )


def _legal(case: CollectionCase, entries: list[TimelineEntry]) -> None:
    author, decider = aliased(User), aliased(User)
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


def _callbacks(case: CollectionCase, entries: list[TimelineEntry]) -> None:
    """Every callback scheduled on the case, from the audit log (the case keeps only the
    latest), shown when it was set, with when it is for."""
    author = aliased(User)
    rows = db.session.execute(
        select(AuditEvent, author.name)
        .outerjoin(author, author.id == AuditEvent.actor_id)
        .where(
            AuditEvent.action == CALLBACK_SET,
            AuditEvent.object_type == "collection_case",
            AuditEvent.object_id == str(case.id),
        )
        .order_by(AuditEvent.id.desc())
        .limit(LIMIT)
    ).all()
    for event, name in rows:
        at = datetime.fromisoformat(event.details["callback_at"])
        callback = ScheduledCallback(event.id, at)
        entries.append(TimelineEntry(event.occurred_at, "callback", callback, name))


def _holds(case: CollectionCase, entries: list[TimelineEntry]) -> None:
    """The borrower's contact holds (they pause contact on every case of the borrower): when
    each was opened, and when it was released."""
    author = aliased(User)
    rows = db.session.execute(
        select(ContactHold, author.name)
        .outerjoin(author, author.id == ContactHold.opened_by)
        .where(ContactHold.borrower_id == case.borrower_id)
        .order_by(ContactHold.id.desc())
        .limit(LIMIT)
    ).all()
    for hold, name in rows:
        entries.append(TimelineEntry(hold.opened_at, "hold", hold, name))
        if hold.closed_at is not None:
            entries.append(TimelineEntry(hold.closed_at, "hold_released", hold))
