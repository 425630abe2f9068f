"""Demo loans and what their borrowers did with them: the payments, calls and messages to replay.

A plan is pure: it reads a loan's schedule and draws from its own random generator (seeded by the
loan's reference), so the demo is the same every time. Whatever a borrower did in the past, each
loan ends on "today" as its profile says: ``dpd`` days past due, partly paid or not.
"""

from __future__ import annotations

import enum
import random
import zlib
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app

from portal.loans.models import Loan, LoanProduct
from portal.loans.schedule import add_months
from portal.loans.services import create_loan
from portal.messaging.models import CallOutcome

MESSAGE_EVERY = timedelta(days=21)  # a collector texts an overdue borrower every three weeks
CALL_GAP = 8  # days between two calls to one borrower (the guard's quiet days after a talk)
# Everyday contacts (texts, calls without a promise) are replayed for the last 30 days only, the
# window of the contact rate; promises, kept or broken, for the whole history. Keeps seed fast.
RECENT = timedelta(days=30)


class Kind(enum.IntEnum):
    """What happens, in the order of a day: calls in the morning, texts, payments after."""

    CALL = 1
    MESSAGE = 2
    PAYMENT = 3


@dataclass(frozen=True)
class LoanTerms:
    """A demo loan as it stands on "today": days past due of its oldest unpaid installment
    (negative: due in the future), and whether a part of that installment is paid."""

    dpd: int
    principal: int
    rate: int
    terms: int
    partial: bool


@dataclass(frozen=True, order=True)
class Event:
    day: date
    kind: Kind
    loan_id: int
    amount: int = 0  # a payment, or the amount promised on a PROMISE_TO_PAY call
    outcome: CallOutcome | None = None
    promised_on: date | None = None


def open_loan(borrower_id: int, reference: str, loan: LoanTerms, today: date) -> tuple[Loan, int]:
    """A loan whose oldest unpaid installment falls ``loan.dpd`` days before ``today``, and how
    many installments come before it (all to be paid by today)."""
    terms, principal = loan.terms, loan.principal
    paid = min(terms - 1, max(0, (terms - 1) // 2 - loan.dpd // 31))
    oldest_unpaid_due = today - timedelta(days=loan.dpd)
    created = create_loan(
        borrower_id=borrower_id,
        reference=reference,
        product=LoanProduct.WALLET_CASH,
        principal_minor=principal,
        annual_rate_bps=loan.rate,
        fee_minor=principal // 100,
        currency=current_app.config["DEFAULT_CURRENCY"],
        disbursed_on=add_months(oldest_unpaid_due, -(paid + 1)),
        terms=terms,
    )
    return created, paid


def _lateness(rng: random.Random) -> int:
    draw = rng.random()
    if draw < 0.5:
        return -rng.randint(0, 2)  # on time or a little early
    if draw < 0.78:
        return rng.randint(3, 20)
    if draw < 0.93:
        return rng.randint(24, 45)
    return rng.randint(55, 75)


def plan_loan(loan: Loan, paid: int, partial: bool, *, since: date, today: date) -> list[Event]:
    """Every event of one loan: installments paid on time or late (with the calls, promises
    and texts of each late spell), then the spell it is in today, if any. Collectors act only
    from ``since`` (the first collections run), when the cases open."""
    rng = random.Random(zlib.crc32(loan.reference.encode()))  # noqa: S311 - demo data
    events: list[Event] = []
    last_paid = loan.disbursed_on
    # A borrower current today fell behind two installments ago and caught up: a cure that the
    # latest pair of month ends (the roll rates shown first) can show.
    caught_up = loan.installments[paid].due_date >= today
    for index, installment in enumerate(loan.installments[:paid]):
        due, late = installment.due_date, _lateness(rng)
        if caught_up and index == paid - 2:
            late = rng.randint(10, 25)
        elif caught_up and index == paid - 1:
            late = 0
        day = min(max(last_paid, due + timedelta(days=late)), today - timedelta(days=1))
        amount = installment.outstanding
        events.append(Event(day, Kind.PAYMENT, loan.id, amount))
        if day > due:
            events += _late_spell(loan.id, (due, day), amount, today - RECENT, rng)
        last_paid = day
    unpaid = loan.installments[paid]
    events += _current_spell(
        loan.id, unpaid.due_date, unpaid.outstanding, partial, (since, today), rng
    )
    if partial and unpaid.due_date >= today:  # paid a part ahead of a due date still to come
        day = max(last_paid, today - timedelta(days=rng.randint(1, 5)))
        events.append(Event(day, Kind.PAYMENT, loan.id, unpaid.outstanding // 3))
    return events


def _texts(loan_id: int, due: date, until: date) -> list[Event]:
    day, events = due + timedelta(days=1), []
    while day < until:
        events.append(Event(day, Kind.MESSAGE, loan_id))
        day += MESSAGE_EVERY
    return events


def _call(loan_id: int, day: date, amount: int = 0, promised_on: date | None = None) -> Event:
    outcome = CallOutcome.PROMISE_TO_PAY if promised_on else CallOutcome.CONNECTED
    return Event(day, Kind.CALL, loan_id, amount, outcome, promised_on)


def _late_spell(
    loan_id: int, spell: tuple[date, date], amount: int, recent: date, rng: random.Random
) -> list[Event]:
    """An installment due ``spell[0]`` paid ``spell[1]``: texts (from ``recent``); from five
    days late a promise to pay kept on the day, after a broken one when more than 12 days late."""
    due, paid_on = spell
    events = _texts(loan_id, max(due, recent), paid_on)
    late = (paid_on - due).days
    if late >= 5:
        if late > 12 and rng.random() < 0.6:
            events.append(_call(loan_id, due + timedelta(days=2), amount, due + timedelta(days=4)))
        called = paid_on - timedelta(days=rng.randint(0, 3))
        events.append(_call(loan_id, called, amount, paid_on))
    elif late >= 2 and due >= recent:
        events.append(_call(loan_id, due + timedelta(days=1)))
    return events


def _current_spell(
    loan_id: int,
    due: date,
    outstanding: int,
    partial: bool,
    days: tuple[date, date],
    rng: random.Random,
) -> list[Event]:
    """The installment overdue today: texts, a call every so often (none in the last CALL_GAP
    days, so the collector trying the demo may call anyone today), the first a promise of a
    third that is broken, the last, for a partial payer, a promise of a third kept next day."""
    since, today = days
    if due >= today:
        return []
    events = _texts(loan_id, max(due, since, today - RECENT), today)
    calls, day = [], max(due + timedelta(days=2), since + timedelta(days=1))
    while day <= today - timedelta(days=CALL_GAP):
        calls.append(day)
        day += timedelta(days=CALL_GAP + rng.randint(0, 6))
    third = outstanding // 3
    for index, day in enumerate(calls):
        if index == 0:
            events.append(_call(loan_id, day, third, day + timedelta(days=3)))
        elif partial and index == len(calls) - 1:
            events.append(_call(loan_id, day, third, day + timedelta(days=1)))
            events.append(Event(day + timedelta(days=1), Kind.PAYMENT, loan_id, third))
            partial = False
        elif day >= today - RECENT:
            events.append(_call(loan_id, day))
    if partial:  # no call was left to promise it: paid a part unprompted
        events.append(Event(today - timedelta(days=1), Kind.PAYMENT, loan_id, third))
    return events
