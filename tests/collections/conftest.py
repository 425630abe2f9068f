"""Helpers of the collections tests, shared by their modules.

- ``record_run``: cases count days past due to the latest run, so tests that build cases by hand
  record the run they stand for.
- ``NOW``/``TODAY``, ``freeze`` and ``make_case``: a case as the daily run leaves it, and the
  case pages' clock.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from portal.auth.models import Channel
from portal.collections.models import (
    CaseStatus,
    CollectionCase,
    CollectionRun,
    PromiseStatus,
    PromiseToPay,
)
from portal.extensions import db
from portal.messaging.models import CallOutcome, ContactKind, Message, MessageStatus

# 10:00 in Shanghai on Saturday 28 November 2026: inside every rulebook's contact window.
NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
TODAY = date(2026, 11, 28)


def freeze(monkeypatch, when: datetime) -> None:
    """Make the collections routes see ``when`` as the current time."""
    from portal.collections.cases import page, routes

    monkeypatch.setattr(routes, "utcnow", lambda: when)
    monkeypatch.setattr(page, "utcnow", lambda: when)


def make_case(
    app,
    *,
    borrower_id: int,
    loan_id: int,
    assigned_to: int | None,
    overdue: int = 10_000,
    dpd: int = 30,
    last_contact_at: datetime | None = None,
    callback_at: datetime | None = None,
    status: CaseStatus = CaseStatus.OPEN,
    promise_on: date | None = None,
) -> int:
    """An open collection case on a loan, as the daily run leaves it; returns its id."""
    with app.app_context():
        record_run(TODAY)
        case = CollectionCase(
            loan_id=loan_id,
            borrower_id=borrower_id,
            status=status,
            opened_on=TODAY - timedelta(days=dpd),
            stage=2 if dpd > 3 else 1,
            stage_entered_on=TODAY - timedelta(days=dpd),
            bucket="1-30" if dpd <= 30 else "31-60",
            oldest_unpaid_due=TODAY - timedelta(days=dpd),
            overdue_principal=overdue,
            overdue_interest=0,
            overdue_fee=0,
            currency="CNY",
            strategy_version=0,
            assigned_to=assigned_to,
            callback_at=callback_at,
        )
        db.session.add(case)
        db.session.flush()
        if promise_on is not None:
            db.session.add(
                PromiseToPay(
                    case_id=case.id,
                    amount_minor=5_000,
                    currency="CNY",
                    promised_on=promise_on,
                    made_at=NOW - timedelta(days=2),
                    status=PromiseStatus.PENDING,
                )
            )
        if last_contact_at is not None:
            record_contact(borrower_id, last_contact_at)
        db.session.commit()
        return case.id


def record_run(as_of: date) -> None:
    """A finished collections run for ``as_of`` (once; flushes)."""
    if db.session.scalar(select(CollectionRun.id).where(CollectionRun.as_of == as_of)):
        return
    db.session.add(
        CollectionRun(
            as_of=as_of,
            status="finished",
            strategy_version=0,
            started_at=datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC),
            report={},
        )
    )
    db.session.flush()


def record_contact(
    borrower_id: int,
    at: datetime,
    *,
    channel: Channel = Channel.PORTAL,
    status: MessageStatus = MessageStatus.SENT,
    call_outcome: CallOutcome | None = None,
) -> Message:
    """A message to the borrower as the outbox or a logged call leaves it (flushes); by default
    a portal notice made visible at ``at``, which counts as a contact."""
    message = Message(
        idempotency_key=uuid.uuid4().hex,
        borrower_id=borrower_id,
        purpose="overdue_stage_1" if channel is not Channel.PHONE else "collection_call",
        kind=ContactKind.COLLECTION,
        channel=channel,
        locale="en",
        status=status,
        not_before=at,
        sent_at=at if status in (MessageStatus.SENT, MessageStatus.DELIVERED) else None,
        call_outcome=call_outcome,
        created_at=at,
    )
    db.session.add(message)
    db.session.flush()
    return message
