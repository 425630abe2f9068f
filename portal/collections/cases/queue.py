"""The work queue: open cases in priority order, with the reason for each row's place.

Priority, computed in SQL (ORDER BY CASE ...) so a page is one query: a promise to pay due
today, then a callback that is due (``callback_at <= now``), then the rest; within each group
the higher overdue amount, then more days past due, then the longest time since the last contact
(never contacted first). The total for the pager comes with the rows (``COUNT(*) OVER ()``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import aliased

from portal.auth.models import Role, User
from portal.collections.cases.access import Viewer, cases_visible_to
from portal.collections.metrics import last_contact_at
from portal.collections.models import CaseStatus, CollectionCase, PromiseStatus, PromiseToPay
from portal.extensions import db
from portal.loans.models import Loan
from portal.plans.queries import in_active_plan

PAGE_SIZE = 25
PROMISE_DUE, CALLBACK_DUE, BY_AMOUNT = 0, 1, 2

CollectorFilter = int | Literal["unassigned"] | None


@dataclass(frozen=True)
class QueueRow:
    case_id: int
    loan_reference: str
    borrower_name: str
    collector_id: int | None
    collector_name: str | None
    stage: int
    bucket: str
    days_past_due: int
    overdue_minor: int
    currency: str
    last_contact_at: datetime | None
    callback_at: datetime | None
    promise_minor: int | None
    promised_on: date | None  # the date of the case's pending promise, due today or later
    priority: int  # PROMISE_DUE, CALLBACK_DUE or BY_AMOUNT: why the row is where it is
    in_plan: bool = False  # the loan is in an active repayment plan


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    total: int
    page: int
    pages: int


def _promise_due_today(today: date):
    """The amount of the case's pending promise due ``today`` (None without one), per row."""
    c = CollectionCase
    return (
        select(PromiseToPay.amount_minor)
        .where(
            PromiseToPay.case_id == c.id,
            PromiseToPay.status == PromiseStatus.PENDING,
            PromiseToPay.promised_on == today,
        )
        .order_by(PromiseToPay.id)
        .limit(1)
        .scalar_subquery()
    )


def _pending_promise_date():
    """The date of the case's pending promise (None without one), per row: at most one per
    case (the partial unique index), made by a collector or by the borrower on the portal."""
    return (
        select(PromiseToPay.promised_on)
        .where(
            PromiseToPay.case_id == CollectionCase.id,
            PromiseToPay.status == PromiseStatus.PENDING,
        )
        .limit(1)
        .scalar_subquery()
    )


def _queue_query(viewer: Viewer, now: datetime, today: date, collector: CollectorFilter):
    """The open cases ``viewer`` may work on (an admin: narrowed by ``collector``), each with
    its priority group, in queue order, with the total for the pager."""
    c = CollectionCase
    assignee = aliased(User)
    promise_today = _promise_due_today(today)
    priority = case(
        (promise_today.is_not(None), PROMISE_DUE),
        (and_(c.callback_at.is_not(None), c.callback_at <= now), CALLBACK_DUE),
        else_=BY_AMOUNT,
    )
    overdue = c.overdue_total
    last_contact = last_contact_at(c.borrower_id)
    query = (
        select(
            c.id,
            Loan.reference,
            User.name.label("borrower_name"),
            c.assigned_to,
            assignee.name.label("collector_name"),
            c.stage,
            c.bucket,
            c.days_past_due,
            overdue.label("overdue"),
            c.currency,
            last_contact.label("last_contact_at"),
            c.callback_at,
            promise_today.label("promise_minor"),
            _pending_promise_date().label("promised_on"),
            priority.label("priority"),
            in_active_plan(c.loan_id).label("in_plan"),
            func.count().over().label("total"),
        )
        .join(Loan, Loan.id == c.loan_id)
        .join(User, User.id == c.borrower_id)
        .outerjoin(assignee, assignee.id == c.assigned_to)
        .where(c.status == CaseStatus.OPEN, cases_visible_to(viewer))
    )
    if viewer.role is not Role.ADMIN:  # a collector's queue is their own work, whatever they see
        query = query.where(c.assigned_to == viewer.id)
    elif collector == "unassigned":
        query = query.where(c.assigned_to.is_(None))
    elif collector is not None:
        query = query.where(c.assigned_to == collector)
    return query.order_by(
        priority,
        overdue.desc(),
        c.days_past_due.desc(),
        case((last_contact.is_(None), 0), else_=1),
        last_contact,
        c.id,
    )


def _queue_row(row) -> QueueRow:
    return QueueRow(
        case_id=row.id,
        loan_reference=row.reference,
        borrower_name=row.borrower_name,
        collector_id=row.assigned_to,
        collector_name=row.collector_name,
        stage=row.stage,
        bucket=row.bucket,
        days_past_due=row.days_past_due,
        overdue_minor=int(row.overdue),
        currency=row.currency,
        last_contact_at=row.last_contact_at,
        callback_at=row.callback_at,
        promise_minor=row.promise_minor,
        promised_on=row.promised_on,
        priority=row.priority,
        in_plan=bool(row.in_plan),
    )


def queue_page(
    *,
    viewer: Viewer,
    now: datetime,
    today: date,
    collector: CollectorFilter = None,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> QueuePage:
    """One page of the queue. Collectors get their own open cases, whatever ``collector`` says;
    admins get every open case, or one collector's, or the unassigned (``"unassigned"``).
    ``today`` is the date promises fall due on (the lender's calendar). One query (two for a
    page past the end, which gives the first page).
    """
    page = max(page, 1)
    rows = db.session.execute(
        _queue_query(viewer, now, today, collector).limit(page_size).offset((page - 1) * page_size)
    ).all()
    if not rows and page > 1:  # past the end (cases closed meanwhile): the first page
        return queue_page(
            viewer=viewer, now=now, today=today, collector=collector, page=1, page_size=page_size
        )
    total = rows[0].total if rows else 0
    return QueuePage(
        rows=[_queue_row(row) for row in rows],
        total=total,
        page=page,
        pages=max(1, -(-total // page_size)),
    )
