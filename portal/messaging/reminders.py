"""Reminders before and on the due date, generated daily on each borrower's preferred channels.

Run it as often as you like: each reminder has a business key (installment, days before, channel),
so it is queued once. The borrower's local date decides which reminder is due, and the guard
defers texts and emails to the borrower's allowed hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from babel.dates import format_date
from flask import current_app
from sqlalchemy import func, select

from portal.auth.models import BorrowerProfile, Channel, ContactPreference, User
from portal.extensions import db
from portal.loans.models import Installment, Loan, LoanStatus
from portal.messaging.channels import DISPATCHED_CHANNELS
from portal.messaging.models import Message
from portal.messaging.outbox import enqueue
from portal.messaging.templates import TemplateMissing
from portal.money import format_money
from portal.timeutil import local_today

DAYS_BEFORE = {3: "pre_due_reminder", 1: "pre_due_reminder", 0: "due_today"}


# A plan's installment (portal.plans) gets the plan's own reminder, whatever the day.
PLAN_REMINDER = "plan_reminder"
REMINDER_PURPOSES = frozenset({*DAYS_BEFORE.values(), PLAN_REMINDER})


def reminder_key(installment_id: int, days_before: int, channel: Channel) -> str:
    """A reminder's business key: one per installment, day before the due date and channel."""
    return f"reminder:{installment_id}:{days_before}:{channel.value}"


def reminded_installment(key: str | None) -> int | None:
    """The installment a reminder's business key names (None for any other key)."""
    parts = (key or "").split(":")
    if len(parts) == 4 and parts[0] == "reminder" and parts[1].isdigit():
        return int(parts[1])
    return None


@dataclass
class ReminderReport:
    candidates: int = 0
    queued: int = 0
    already_queued: int = 0
    missing_template: int = 0


def generate_reminders(now: datetime) -> ReminderReport:
    """Queue the reminders due today (local) for every unpaid installment. Flushes only."""
    report = ReminderReport()
    # Local dates differ from the UTC date by at most a day: take a window wide enough for all.
    utc_today = now.date()
    window = (utc_today - timedelta(days=1), utc_today + timedelta(days=4))
    outstanding = Installment.outstanding
    rows = db.session.execute(
        select(Installment, Loan, User.timezone, User.locale)
        .join(Loan, Loan.id == Installment.loan_id)
        .join(BorrowerProfile, BorrowerProfile.user_id == Loan.borrower_id)
        .join(User, User.id == BorrowerProfile.user_id)
        .where(
            Loan.status == LoanStatus.ACTIVE, outstanding > 0, Installment.due_date.between(*window)
        )
    ).all()
    opted_out = _opted_out({loan.borrower_id for _, loan, _, _ in rows})
    due: list[tuple[str, Installment, Loan, str | None, int, Channel]] = []
    for installment, loan, timezone, locale in rows:
        days_before = (installment.due_date - local_today(timezone, now)).days
        if days_before not in DAYS_BEFORE:
            continue
        report.candidates += 1
        for channel in DISPATCHED_CHANNELS:
            if channel not in opted_out.get(loan.borrower_id, set()):  # preferred channels only
                key = reminder_key(installment.id, days_before, channel)
                due.append((key, installment, loan, locale, days_before, channel))
    existing = _existing_keys([item[0] for item in due])
    positions = _plan_positions({item[1].plan_id for item in due if item[1].plan_id})
    for key, installment, loan, _locale, days_before, channel in due:
        if key in existing:
            report.already_queued += 1
            continue
        try:
            enqueue(
                borrower_id=loan.borrower_id,
                purpose_code=PLAN_REMINDER if installment.plan_id else DAYS_BEFORE[days_before],
                channel=channel,
                variables=_reminder_variables(
                    installment, loan, days_before, channel, positions.get(installment.id, "")
                ),
                now=now,
                loan_id=loan.id,
                dedupe_key=key,
            )
        except TemplateMissing:
            report.missing_template += 1
            continue
        report.queued += 1
    return report


def _reminder_variables(
    installment: Installment, loan: Loan, days_before: int, channel: Channel, plan_position: str
):
    """The reminder's variables in one language; in the portal its link is the site's own path."""
    base = "" if channel is Channel.PORTAL else current_app.config["PUBLIC_URL"].rstrip("/")

    def variables(locale: str) -> dict[str, str]:
        return {
            "loan_reference": loan.reference,
            "due_date": format_date(installment.due_date, "medium", locale=locale),
            "amount_due": format_money(installment.outstanding, loan.currency, locale),
            "days_until_due": str(days_before),
            "pay_url": f"{base}/loans/{loan.id}",
            # "2/6": which of the plan's installments (plan reminders only use it)
            "plan_installment": plan_position,
        }

    return variables


def _plan_positions(plan_ids: set[int]) -> dict[int, str]:
    """ "n/N" of each installment of these plans among its plan's (one query for all)."""
    positions: dict[int, str] = {}
    for start in range(0, len(ids := sorted(plan_ids)), 500):  # the parameter limit
        by_plan = Installment.plan_id
        rows = db.session.execute(
            select(
                Installment.id,
                func.row_number().over(partition_by=by_plan, order_by=Installment.sequence),
                func.count().over(partition_by=by_plan),
            ).where(by_plan.in_(ids[start : start + 500]))
        )
        positions.update({id_: f"{n}/{total}" for id_, n, total in rows})
    return positions


def _existing_keys(keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 500):  # stay under the database's parameter limit
        found.update(
            db.session.scalars(
                select(Message.dedupe_key).where(Message.dedupe_key.in_(keys[start : start + 500]))
            )
        )
    return found


def _opted_out(borrower_ids: set[int]) -> dict[int, set[Channel]]:
    result: dict[int, set[Channel]] = {}
    if not borrower_ids:
        return result
    for borrower_id, channel in db.session.execute(
        select(ContactPreference.borrower_id, ContactPreference.channel).where(
            ContactPreference.borrower_id.in_(borrower_ids), ContactPreference.allowed.is_(False)
        )
    ):
        result.setdefault(borrower_id, set()).add(channel)
    return result
