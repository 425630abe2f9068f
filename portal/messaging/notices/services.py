"""In-portal notices: the borrower's notice centre, and the overdue notice the run sends."""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_date
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal.auth.models import Channel
from portal.domain import NotFound
from portal.extensions import db
from portal.loans.models import Component, Loan
from portal.loans.services import loan_position
from portal.messaging.models import Message, MessageStatus
from portal.messaging.outbox import enqueue
from portal.money import format_money
from portal.timeutil import local_today

VISIBLE = (MessageStatus.SENT, MessageStatus.DELIVERED)


class NoticeNotFound(NotFound):
    message = _l("We could not find that notice.")


def _visible_to(borrower_id: int):
    return (
        Message.borrower_id == borrower_id,
        Message.channel == Channel.PORTAL,
        Message.status.in_(VISIBLE),
    )


def unread_count(borrower_id: int) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Message)
            .where(*_visible_to(borrower_id), Message.read_at.is_(None))
        )
        or 0
    )


def notices_of(borrower_id: int, *, limit: int = 50, before_id: int | None = None) -> list[Message]:
    """The borrower's notices, newest first, ``limit`` at a time (keyset on id)."""
    query = (
        select(Message).where(*_visible_to(borrower_id)).options(selectinload(Message.renderings))
    )
    if before_id is not None:
        query = query.where(Message.id < before_id)
    return list(db.session.scalars(query.order_by(Message.id.desc()).limit(limit)))


def open_notice(borrower_id: int, notice_id: int, *, now: datetime) -> Message:
    """One of the borrower's own notices, marked read on first opening; 404 for others'."""
    notice = db.session.scalar(
        select(Message)
        .where(Message.id == notice_id, *_visible_to(borrower_id))
        .options(selectinload(Message.renderings))
    )
    if notice is None:
        raise NoticeNotFound()
    if notice.read_at is None:
        notice.read_at = now
        db.session.flush()
    return notice


def send_overdue_notice(
    loan_id: int,
    *,
    channel: Channel,
    now: datetime,
    purpose_code: str = "overdue_stage_1",
    actor_id: int | None = None,
) -> Message | None:
    """Queue an overdue notice for a loan from its position today (the borrower's local date).

    Returns None when the loan is not overdue. Idempotent per loan, purpose, channel and local
    day. Flushes; the caller commits.
    """
    loan = db.session.get(Loan, loan_id)
    if loan is None:
        raise NotFound()
    borrower = loan.borrower.user
    today = local_today(borrower.timezone, now)
    position = loan_position(loan, today)
    if not position.is_overdue:
        return None
    # In the portal, links are the site's own paths; elsewhere, absolute from PUBLIC_URL.
    base = "" if channel is Channel.PORTAL else current_app.config["PUBLIC_URL"].rstrip("/")
    overdue_dates = [
        i.due_date for i in loan.installments if i.outstanding > 0 and i.due_date < today
    ]

    late_charges = position.overdue_by_component[Component.LATE_CHARGE]

    def variables(locale: str) -> dict[str, str]:
        def money(amount: int) -> str:
            return format_money(amount, loan.currency, locale)

        return {
            "loan_reference": loan.reference,
            "days_past_due": str(position.days_past_due),
            "amount_overdue": money(position.overdue),
            "principal_overdue": money(position.overdue_by_component[Component.PRINCIPAL]),
            "interest_overdue": money(position.overdue_by_component[Component.INTEREST]),
            "fees_overdue": money(position.overdue_by_component[Component.FEE]),
            "late_charges_overdue": money(late_charges) if late_charges else "",
            "due_dates": ", ".join(format_date(d, "medium", locale=locale) for d in overdue_dates),
            "pay_url": f"{base}/loans/{loan.id}/pay",
            "plans_url": f"{base}/loans/{loan.id}/plans",
        }

    return enqueue(
        borrower_id=loan.borrower_id,
        purpose_code=purpose_code,
        channel=channel,
        variables=variables,
        now=now,
        loan_id=loan.id,
        actor_id=actor_id,
        dedupe_key=f"overdue:{loan.id}:{purpose_code}:{channel.value}:{today.isoformat()}",
    )
