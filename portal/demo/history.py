"""Replay the demo's past day by day through the real services, so the history is consistent.

Each day: the collections run in the small hours (back-dated: runs go forward in time, so the
replay starts at the oldest day), then the collector's calls and promises, the texts (delivered
by the dispatcher at that hour), and the payments booked on their day. Month ends leave the
snapshots that roll rates compare; the runs settle promises kept and broken and cure cases.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from portal.auth.models import Channel, User
from portal.collections.cases.actions import CallRefused, log_case_call, send_case_message
from portal.collections.cases.promises import PromiseRefused
from portal.collections.models import CaseStatus, CollectionCase, CollectionRun
from portal.collections.run import run_collections
from portal.demo.loans import Event, Kind
from portal.extensions import db
from portal.loans.models import PaymentMethod
from portal.loans.services import record_payment
from portal.messaging.dispatch import dispatch_due

RUN_AT = time(1, 0)  # local times of the day's steps
CALL_AT = time(10, 30)
TEXT_AT = time(11, 0)
DISPATCH_AT = time(11, 30)
PAYMENT_AT = time(15, 0)
DISPATCHED = {Channel.SMS, Channel.PORTAL}  # the ones that need no outside service in the demo
METHODS = (PaymentMethod.ALIPAY, PaymentMethod.WECHAT_PAY, PaymentMethod.CARD)


def at(day: date, moment: time) -> datetime:
    """``moment`` on ``day`` in the portfolio's time zone, in UTC."""
    zone = ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])
    return datetime.combine(day, moment, zone).astimezone(UTC)


def latest_run() -> date | None:
    return db.session.scalar(select(func.max(CollectionRun.as_of)))


def replay(events: Iterable[Event], *, since: date, today: date, viewer: User | None) -> int:
    """Apply ``events`` in time order, with a collections run for every day from ``since`` to
    yesterday that has none yet; returns the payments booked. Commits per day."""
    by_day: dict[date, list[Event]] = defaultdict(list)
    for event in sorted(events):
        if event.day >= since or event.kind is Kind.PAYMENT:  # no case to act on before runs
            by_day[event.day].append(event)
    days = sorted(day for day in by_day if day < since)
    days += [since + timedelta(days=n) for n in range((today - since).days)]
    after = latest_run()
    payments = 0
    for day in days:
        if day >= since and (after is None or day > after):
            run_collections(day, now=at(day, RUN_AT), contacts=False)
        for event in by_day.get(day, ()):
            payments += _apply(event, viewer)
        if day >= since:
            dispatch_due(partial(at, day, DISPATCH_AT), channels=DISPATCHED)
        db.session.commit()
    return payments


def _apply(event: Event, viewer: User | None) -> int:
    """Do one event; returns 1 for a payment. A call the contact rules refuse, or a promise the
    case rules refuse, leaves nothing, as on the case page."""
    if event.kind is Kind.PAYMENT:
        record_payment(
            loan_id=event.loan_id,
            amount_minor=event.amount,
            currency=current_app.config["DEFAULT_CURRENCY"],
            method=METHODS[event.loan_id % len(METHODS)],
            received_at=at(event.day, PAYMENT_AT),
        )
        return 1
    case = db.session.scalar(
        select(CollectionCase).where(
            CollectionCase.loan_id == event.loan_id, CollectionCase.status == CaseStatus.OPEN
        )
    )
    if case is None or viewer is None:  # before the first run, or already cured
        return 0
    if event.kind is Kind.MESSAGE:
        send_case_message(
            case.id,
            viewer=viewer,
            purpose_code=f"overdue_stage_{min(case.stage, 3)}",
            channel=Channel.SMS,
            now=at(event.day, TEXT_AT),
        )
        return 0
    assert event.outcome is not None  # noqa: S101 - calls always have one
    try:
        with db.session.begin_nested():
            log_case_call(
                case.id,
                viewer=viewer,
                outcome=event.outcome,
                now=at(event.day, CALL_AT),
                promised_amount=event.amount if event.promised_on else None,
                promised_on=event.promised_on,
            )
    except (CallRefused, PromiseRefused):
        pass
    return 0
