"""The borrower's side of a payment: start (or find) the attempt, and read how it went.

One attempt is one processor PaymentIntent for one amount on one loan. A double click, a
reload or a second tab finds the live attempt instead of creating a second intent: the
lookup below, and on PostgreSQL the unique partial index ``uq_payment_attempt_live`` for two
requests at the same instant (the second waits for the first and then finds its attempt).
Nothing here books money: only a verified processor event does (``portal.payments.events``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.domain import NotFound
from portal.extensions import db
from portal.loans.models import Loan
from portal.loans.services import loan_of_borrower
from portal.payments.gateway import ProcessorRefused, ProcessorUnavailable, payment_gateway
from portal.payments.models import (
    LIVE_STATUSES,
    AttemptStatus,
    IssueKind,
    PaymentAttempt,
    PaymentIssue,
    PayOption,
    Provider,
)
from portal.payments.quotes import quote


class AttemptNotFound(NotFound):
    message = _l("We could not find that payment.")


def start_payment(
    *,
    borrower_id: int,
    loan_id: int,
    option: PayOption,
    amount_minor: int,
    today: date,
    now: datetime,
) -> PaymentAttempt:
    """The live attempt for this borrower, loan and amount, created with its intent if none.

    Raises LoanNotFound (not the borrower's loan), AmountRefused / QuoteChanged / NothingToPay
    (not an amount payable today), ProcessorUnavailable or ProcessorRefused (the processor
    failed or refused: the caller's transaction is rolled back so no attempt without an intent
    is left, and a PaymentIssue for staff is committed on its own). A live attempt made with
    the other processor (the sandbox before Stripe keys were set) is canceled, not reused.
    Flushes; the caller commits.
    """
    loan = loan_of_borrower(borrower_id, loan_id)
    amount = quote(loan, today).check(option, amount_minor)
    return open_attempt(loan, option=option, amount_minor=amount, now=now)


def open_attempt(loan: Loan, *, option: PayOption, amount_minor: int, now: datetime):
    """The live attempt on ``loan`` (the borrower's own) for an amount already checked, created
    with its intent if none: ``start_payment``'s work once the pay page's quote allowed the
    amount, and a plan's down payment (``portal.plans``), which its plan priced. Raises and
    flushes as ``start_payment`` does."""
    borrower_id, loan_id, amount = loan.borrower_id, loan.id, amount_minor
    currency, reference = loan.currency, loan.reference
    try:
        gateway = payment_gateway()
        existing = _live_attempt(borrower_id, loan_id, amount)
        if existing is not None and existing.provider is not gateway.provider:
            existing.status = AttemptStatus.CANCELED  # its checkout can no longer take money
            db.session.flush()
            existing = None
        if existing is not None and existing.intent_id is not None:
            return existing
        attempt = existing or _new_attempt(
            borrower_id, loan_id, option, amount, currency, gateway.provider, now
        )
        if attempt.intent_id is not None:  # a concurrent request made it first
            return attempt
        intent = gateway.create_intent(
            amount_minor=attempt.amount_minor,
            currency=attempt.currency,
            idempotency_key=attempt.idempotency_key,
            metadata={
                "attempt_id": str(attempt.id),
                "loan_id": str(loan_id),
                "borrower_id": str(borrower_id),
            },
            description=f"Loan {reference}",
        )
    except (ProcessorUnavailable, ProcessorRefused) as error:
        db.session.rollback()  # nothing half-made: the attempt without an intent goes too
        record_processor_issue(
            f"create_intent for loan {loan_id}, {amount} {currency}: "
            f"{type(error).__name__} {getattr(error, 'code', None) or ''} {error.context or ''}",
            now=now,
        )
        raise
    attempt.intent_id = intent.id
    attempt.client_secret = intent.client_secret
    db.session.flush()
    return attempt


def _live_attempt(borrower_id: int, loan_id: int, amount_minor: int) -> PaymentAttempt | None:
    return db.session.scalar(
        select(PaymentAttempt).where(
            PaymentAttempt.borrower_id == borrower_id,
            PaymentAttempt.loan_id == loan_id,
            PaymentAttempt.amount_minor == amount_minor,
            PaymentAttempt.status.in_(LIVE_STATUSES),
        )
    )


def _new_attempt(
    borrower_id: int,
    loan_id: int,
    option: PayOption,
    amount_minor: int,
    currency: str,
    provider: Provider,
    now: datetime,
) -> PaymentAttempt:
    """Insert the attempt; if a concurrent request inserted the same one, return theirs."""
    attempt = PaymentAttempt(
        borrower_id=borrower_id,
        loan_id=loan_id,
        option=option,
        amount_minor=amount_minor,
        currency=currency,
        provider=provider,
        idempotency_key=f"attempt-{uuid.uuid4().hex}",
        status=AttemptStatus.OPEN,
        created_at=now,
        updated_at=now,
    )
    db.session.add(attempt)
    try:
        db.session.flush()
    except IntegrityError:
        # uq_payment_attempt_live: the other request committed first (the database made this
        # insert wait for it), so its attempt, with its intent, is there to be read. A full
        # rollback, not a savepoint: SQLite's driver commits on releasing an outer savepoint,
        # and nothing but reads came before in this transaction.
        db.session.rollback()
        theirs = _live_attempt(borrower_id, loan_id, amount_minor)
        if theirs is None:  # pragma: no cover - theirs ended between the insert and the read
            raise
        return theirs
    return attempt


def record_processor_issue(detail: str, *, now: datetime, attempt_id: int | None = None) -> None:
    """Tell staff the processor failed, in a transaction of its own (it outlives a rollback)."""
    with Session(db.engine) as session, session.begin():
        session.add(
            PaymentIssue(
                kind=IssueKind.PROCESSOR_UNREACHABLE,
                attempt_id=attempt_id,
                detail=detail[:1000],
                created_at=now,
            )
        )


def attempt_of_borrower(borrower_id: int, attempt_id: int) -> PaymentAttempt:
    """One attempt, only if it is this borrower's; AttemptNotFound otherwise (never 403)."""
    attempt = db.session.scalar(
        select(PaymentAttempt).where(
            PaymentAttempt.id == attempt_id, PaymentAttempt.borrower_id == borrower_id
        )
    )
    if attempt is None:
        raise AttemptNotFound()
    return attempt


class State:
    """What the borrower's status page shows for an attempt."""

    WAITING = "waiting"  # not confirmed yet (the checkout is still open)
    PROCESSING = "processing"  # confirmed; the processor's verified verdict has not come
    PAID = "paid"  # booked in the ledger
    DECLINED = "declined"  # the processor refused it: try again
    REVIEW = "review"  # the processor's amount or currency differed: staff look at it
    CANCELED = "canceled"


@dataclass(frozen=True)
class AttemptView:
    attempt: PaymentAttempt
    state: str
    failure_code: str | None
    payment_id: int | None


def attempt_status(borrower_id: int, attempt_id: int) -> AttemptView:
    """How the borrower's own attempt stands (AttemptNotFound for anyone else's)."""
    attempt = attempt_of_borrower(borrower_id, attempt_id)
    db.session.refresh(attempt)  # the page polls: read what the event processing committed
    status = attempt.status
    if status is AttemptStatus.SUCCEEDED:
        state = State.PAID
    elif status is AttemptStatus.NEEDS_REVIEW:
        state = State.REVIEW
    elif status is AttemptStatus.CANCELED:
        state = State.CANCELED
    elif attempt.failure_code:
        state = State.DECLINED
    elif status is AttemptStatus.PROCESSING:
        state = State.PROCESSING
    else:
        state = State.WAITING
    return AttemptView(attempt, state, attempt.failure_code, attempt.payment_id)


def mark_confirming(borrower_id: int, attempt_id: int, *, now: datetime) -> PaymentAttempt:
    """The borrower pressed "pay": the attempt waits for the processor's verdict.

    Clears the previous decline so the status page waits for this try's verdict. Changes
    nothing on an attempt that is no longer live (paid, canceled, under review). Flushes.
    """
    attempt = attempt_of_borrower(borrower_id, attempt_id)
    if attempt.status.value in LIVE_STATUSES:
        attempt.status = AttemptStatus.PROCESSING
        attempt.failure_code = None
        attempt.failure_message = None
        attempt.updated_at = now
        db.session.flush()
    return attempt
