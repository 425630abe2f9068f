"""What a collector records on a case: calls, notes, messages.

Each function locks the case row (so two collectors working one case queue up), checks that the
viewer may open it and that it is open, changes it, and audits the action with the case id in the
same transaction. They flush and never commit: the route commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.audit.services import record as audit
from portal.auth.models import Channel, User
from portal.collections.cases.access import authorized_case, borrower_timezone, lock_open_case
from portal.collections.cases.promises import PromiseRefused, check_promise, insert_promise
from portal.collections.labels import MESSAGE_PURPOSES
from portal.collections.models import CaseNote, CollectionCase, PromiseToPay
from portal.domain import DomainError
from portal.extensions import db
from portal.messaging.calls import CallNotAllowed, keep_refusal, log_call
from portal.messaging.channels import DISPATCHED_CHANNELS
from portal.messaging.guard import Decision
from portal.messaging.models import CallOutcome, ContactDecisionRecord, Message
from portal.messaging.notices.services import send_overdue_notice

NOTE_MAX = 2000


class CallRefused(DomainError):
    """The contact rules do not allow the call now. The caller rolls back, then keeps the
    refusal itself on the record with ``keep_call_refusal`` (the case timeline shows it)."""

    status_code = 409
    message = CallNotAllowed.message

    def __init__(self, decision: Decision, timezone: str, refusal: dict | None = None):
        super().__init__()
        self.decision = decision
        self.timezone = timezone
        self.refusal = refusal or {}


def keep_call_refusal(error: CallRefused) -> None:
    """After rolling back a refused call: keep the guard's refusal (no call, no promise, no
    audit event). Flushes; the caller commits."""
    keep_refusal(error.refusal)


class MissingPromise(PromiseRefused):
    field = "amount"
    message = _l("A call that ended in a promise to pay needs the promised amount and date.")


class InvalidNote(DomainError):
    status_code = 422
    message = _l("A note has between 1 and %(max)d characters.", max=NOTE_MAX)


class UnknownMessageChoice(DomainError):
    status_code = 422
    message = _l("Choose one of the offered messages and channels.")


@dataclass(frozen=True)
class CallResult:
    call: Message
    promise: PromiseToPay | None


@dataclass(frozen=True)
class MessageResult:
    """The message written (None: the loan is not overdue), whether it already existed, and the
    rule of the guard's decision on it (why it was deferred or blocked)."""

    message: Message | None
    repeated: bool = False
    rule: str | None = None


def _audit(action: str, case: CollectionCase, viewer: User, now, ip, details: dict) -> None:
    audit(
        action,
        now=now,
        actor_id=viewer.id,
        object_type="collection_case",
        object_id=case.id,
        details=details,
        ip_address=ip,
    )


def log_case_call(
    case_id: int,
    *,
    viewer: User,
    outcome: CallOutcome,
    now: datetime,
    note: str = "",
    promised_amount: int | None = None,
    promised_on: date | None = None,
    ip_address: str | None = None,
) -> CallResult:
    """Log a call through the contact-rules guard; a PROMISE_TO_PAY outcome also records the
    promise (its rules are checked first). Clears a callback that was due (a connected call
    counts as a contact: portal/collections/metrics.py). Audits ``case.call_logged``.

    Raises CallRefused when the guard does not allow the call now (the caller must roll back,
    then keep only the refusal: ``keep_call_refusal``), MissingPromise or another
    PromiseRefused, and the access errors.
    """
    case = lock_open_case(case_id, viewer)
    promise_terms: tuple[int, date] | None = None
    if outcome is CallOutcome.PROMISE_TO_PAY:
        if promised_amount is None or promised_on is None:
            raise MissingPromise()
        check_promise(case, amount_minor=promised_amount, promised_on=promised_on, now=now)
        promise_terms = (promised_amount, promised_on)
    try:
        call = log_call(
            case.borrower_id,
            outcome=outcome,
            now=now,
            actor_id=viewer.id,
            loan_id=case.loan_id,
            note=note,
        )
    except CallNotAllowed as refused:
        raise CallRefused(refused.decision, borrower_timezone(case), refused.refusal) from refused
    promise = None
    if promise_terms is not None:
        amount, day = promise_terms
        promise = insert_promise(
            case, amount_minor=amount, promised_on=day, now=now, actor_id=viewer.id
        )
    if case.callback_at is not None and case.callback_at <= now:
        case.callback_at = None  # the call answers the callback that was due
    details: dict = {"message_id": call.id, "outcome": outcome.value}
    if promise is not None:
        details.update(
            promise_id=promise.id,
            amount_minor=promise.amount_minor,
            promised_on=promise.promised_on.isoformat(),
        )
    _audit("case.call_logged", case, viewer, now, ip_address, details)
    db.session.flush()
    return CallResult(call, promise)


def add_note(
    case_id: int, *, viewer: User, body: str, now: datetime, ip_address: str | None = None
) -> CaseNote:
    """Add a note of 1..NOTE_MAX characters (kept as written); audits ``case.note_added``.
    Notes may be added to closed cases too."""
    if not body.strip() or len(body) > NOTE_MAX:
        raise InvalidNote()
    case = authorized_case(case_id, viewer, lock=True)
    note = CaseNote(case_id=case.id, body=body, author_id=viewer.id, created_at=now)
    db.session.add(note)
    db.session.flush()
    _audit("case.note_added", case, viewer, now, ip_address, {"note_id": note.id})
    return note


def send_case_message(
    case_id: int,
    *,
    viewer: User,
    purpose_code: str,
    channel: Channel,
    now: datetime,
    ip_address: str | None = None,
) -> MessageResult:
    """Queue an overdue notice for the case's loan through the outbox (and so the guard).

    The result says queued, deferred (``not_before`` later than now) or blocked (``blocked_rule``);
    the same purpose and channel twice on one local day returns the first message (``repeated``).
    A queued message is not yet a contact (portal/collections/metrics.py). Audits
    ``case.message_sent``. Raises UnknownMessageChoice, TemplateMissing, RenderFailed and the
    access errors.
    """
    if purpose_code not in MESSAGE_PURPOSES or channel not in DISPATCHED_CHANNELS:
        raise UnknownMessageChoice()
    case = lock_open_case(case_id, viewer)
    message = send_overdue_notice(
        case.loan_id, channel=channel, now=now, purpose_code=purpose_code, actor_id=viewer.id
    )
    repeated = message is not None and message.created_at != now  # written on an earlier try
    details: dict = {"purpose": purpose_code, "channel": channel.value}
    rule = None
    if message is None:
        details["result"] = "not_overdue"
    else:
        db.session.flush()
        rule = db.session.scalar(
            select(ContactDecisionRecord.rule)
            .where(ContactDecisionRecord.message_id == message.id)
            .order_by(ContactDecisionRecord.id.desc())
            .limit(1)
        )
        details.update(
            message_id=message.id,
            result="repeated" if repeated else message.status.value,
            rule=rule,
            not_before=message.not_before.isoformat(),
        )
    _audit("case.message_sent", case, viewer, now, ip_address, details)
    return MessageResult(message, repeated, rule)
