"""The handlers' queue: complaints filtered by category, status, SLA state and handler, the
overdue first. One query, whatever the number of rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, select
from sqlalchemy.orm import aliased

from portal.auth.models import Role, User
from portal.complaints.clocks import SlaState, sla_state
from portal.complaints.lifecycle import OPEN_STATUSES
from portal.complaints.models import Complaint, ComplaintCategory, ComplaintStatus
from portal.extensions import db

DUE_SOON = timedelta(days=2)
LIMIT = 500


@dataclass(frozen=True)
class QueueFilters:
    category: ComplaintCategory | None = None
    status: ComplaintStatus | None = None
    sla: SlaState | None = None  # on_track, due_soon, overdue (open complaints)
    handler_id: int | None = None
    unassigned: bool = False


@dataclass(frozen=True)
class QueueRow:
    complaint: Complaint
    borrower_name: str
    handler_name: str | None
    sla: SlaState


def answered_at(complaint: Complaint) -> datetime | None:
    """When the complaint was answered (resolved or withdrawn), for its SLA state."""
    if complaint.status in OPEN_STATUSES:
        return None
    return complaint.resolved_at or complaint.withdrawn_at or complaint.closed_at


def complaint_sla(complaint: Complaint, now: datetime) -> SlaState:
    return sla_state(
        complaint.response_due_at, now, answered_at=answered_at(complaint), due_soon_within=DUE_SOON
    )


def complaint_queue(filters: QueueFilters, now: datetime) -> list[QueueRow]:
    """Matching complaints, open ones by deadline first, then the answered, newest first."""
    borrower, handler = aliased(User), aliased(User)
    query = (
        select(Complaint, borrower.name, handler.name)
        .join(borrower, borrower.id == Complaint.borrower_id)
        .outerjoin(handler, handler.id == Complaint.handler_id)
    )
    if filters.category is not None:
        query = query.where(Complaint.category == filters.category)
    if filters.status is not None:
        query = query.where(Complaint.status == filters.status)
    if filters.unassigned:
        query = query.where(Complaint.handler_id.is_(None))
    elif filters.handler_id is not None:
        query = query.where(Complaint.handler_id == filters.handler_id)
    if filters.sla is not None:
        query = query.where(_sla_condition(filters.sla, now))
    is_open = Complaint.status.in_(OPEN_STATUSES)
    query = query.order_by(
        is_open.desc(), Complaint.response_due_at, Complaint.received_at.desc(), Complaint.id
    ).limit(LIMIT)
    return [
        QueueRow(complaint, borrower_name, handler_name, complaint_sla(complaint, now))
        for complaint, borrower_name, handler_name in db.session.execute(query)
    ]


def _sla_condition(state: SlaState, now: datetime):
    is_open = Complaint.status.in_(OPEN_STATUSES)
    due = Complaint.response_due_at
    if state is SlaState.OVERDUE:
        return and_(is_open, due <= now)
    if state is SlaState.DUE_SOON:
        return and_(is_open, due > now, due <= now + DUE_SOON)
    if state is SlaState.ON_TRACK:
        return and_(is_open, due > now + DUE_SOON)
    return ~is_open  # met or breached: the answered ones, told apart row by row


def handlers() -> list[User]:
    """Who may be assigned complaints: active agents and admins, by name."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.role.in_((Role.AGENT, Role.ADMIN)), User.is_active_account.is_(True))
            .order_by(User.name, User.id)
        )
    )
