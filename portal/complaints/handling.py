"""Staff handling a complaint: acknowledge, investigate, reply, note, ask the borrower, extend
the deadline, escalate, assign (with recusal), close and reopen. Resolution is ``remedies``.

Handlers are agents and admins; collectors never handle complaints (they may be the subject of
one). Each call locks the complaint's row, checks the lifecycle table, writes the thread and the
audit log, and flushes; the caller commits.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.audit.services import record as audit
from portal.auth.models import Channel, Role, User
from portal.collections.models import CollectionCase
from portal.complaints.calendar import business_calendar
from portal.complaints.clocks import ExtensionNeeds, complaint_clocks, extension_needs
from portal.complaints.lifecycle import OPEN_STATUSES, Action, NotOpen, may_escalate
from portal.complaints.models import Complaint, ComplaintCategory, EventKind
from portal.complaints.services import (
    ComplaintNotFound,
    ComplaintRefused,
    ComplaintSettings,
    MessageInvalid,
    checked_text,
    reopen_hold,
)
from portal.complaints.thread import add_event, move
from portal.domain import DomainError
from portal.extensions import db
from portal.messaging.outbox import enqueue
from portal.messaging.templates import RenderFailed, TemplateMissing

log = logging.getLogger(__name__)
HANDLER_ROLES = (Role.AGENT, Role.ADMIN)


class NotAHandler(DomainError):
    status_code = 403
    message = _l("Only agents and administrators handle complaints.")


class HandlerRecused(ComplaintRefused):
    status_code = 409
    field = "handler_id"
    message = _l(
        "This person is linked to the complaint (for example, the collector whose conduct "
        "it is about) and cannot handle it."
    )


class ComplaintAboutYou(DomainError):
    status_code = 403
    message = _l("This complaint is about you: someone else handles it.")


class ExtensionRefused(ComplaintRefused):
    field = "reason"


class EscalationRefused(ComplaintRefused):
    status_code = 409
    message = _l("This complaint cannot be escalated (it is closed or already escalated).")


def complaint_for_staff(staff: User, complaint_id: int, *, lock: bool = False) -> Complaint:
    """A complaint for a handler: NotAHandler for other roles, ComplaintNotFound if missing,
    ComplaintAboutYou for the staff member whose conduct it is about."""
    if staff.role not in HANDLER_ROLES:
        raise NotAHandler()
    query = (
        select(Complaint)
        .where(Complaint.id == complaint_id)
        .options(selectinload(Complaint.events), selectinload(Complaint.attachments))
    )
    if lock:
        query = query.with_for_update(of=Complaint).execution_options(populate_existing=True)
    complaint = db.session.scalar(query)
    if complaint is None:
        raise ComplaintNotFound()
    if complaint.subject_staff_id == staff.id:
        raise ComplaintAboutYou()  # nor its internal notes
    return complaint


def recused_staff(complaint: Complaint) -> set[int]:
    """Staff who may not handle or supervise the complaint: the person it is about, and for a
    complaint about collection conduct, the collectors assigned to the borrower's cases (of the
    complaint's loan, or all the borrower's cases when it names none)."""
    recused = {complaint.subject_staff_id} if complaint.subject_staff_id else set()
    if complaint.category is ComplaintCategory.COLLECTION_CONDUCT:
        query = select(CollectionCase.assigned_to).where(
            CollectionCase.borrower_id == complaint.borrower_id,
            CollectionCase.assigned_to.is_not(None),
        )
        if complaint.loan_id is not None:
            query = query.where(CollectionCase.loan_id == complaint.loan_id)
        recused.update(db.session.scalars(query))
    return recused


def _eligible(user_id: int, complaint: Complaint, roles=HANDLER_ROLES) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.role not in roles or not user.is_active_account:
        raise ComplaintRefused(_l("Choose an active agent or administrator."))
    if user.id in recused_staff(complaint):
        raise HandlerRecused()
    return user


def assign(
    staff: User, complaint_id: int, handler_id: int, *, now: datetime, ip_address: str | None
) -> Complaint:
    """Give the complaint to a handler who is not recused (HandlerRecused otherwise)."""
    complaint = complaint_for_staff(staff, complaint_id, lock=True)
    if complaint.status not in OPEN_STATUSES:
        raise NotOpen()
    handler = _eligible(handler_id, complaint)
    complaint.handler_id = handler.id
    add_event(
        complaint, EventKind.ASSIGNED, public=False, now=now, actor_id=staff.id, body=handler.name
    )
    _audit(complaint, "complaint.assigned", staff, now, ip_address, {"handler": handler.id})
    return complaint


def set_subject_staff(
    staff: User, complaint_id: int, subject_id: int | None, *, now: datetime, ip_address: str | None
) -> Complaint:
    """Record whose conduct the complaint is about; if that is the handler, unassign them."""
    complaint = complaint_for_staff(staff, complaint_id, lock=True)
    if subject_id is not None and db.session.get(User, subject_id) is None:
        raise ComplaintRefused(_l("Choose a member of staff."))
    complaint.subject_staff_id = subject_id
    if complaint.handler_id is not None and complaint.handler_id in recused_staff(complaint):
        complaint.handler_id = None
    _audit(complaint, "complaint.subject_set", staff, now, ip_address, {"subject": subject_id})
    return complaint


def acknowledge(
    staff: User, complaint_id: int, *, now: datetime, ip_address: str | None
) -> Complaint:
    """Acknowledge receipt; the borrower is sent the ``complaint_acknowledgement`` notice with
    the response deadline (portal and email)."""
    complaint = complaint_for_staff(staff, complaint_id, lock=True)
    move(complaint, Action.ACKNOWLEDGE, now=now, actor_id=staff.id, ip_address=ip_address)
    complaint.acknowledged_at = now
    if complaint.handler_id is None and staff.id not in recused_staff(complaint):
        complaint.handler_id = staff.id
    _send_acknowledgement(complaint, now=now)
    return complaint


def _send_acknowledgement(complaint: Complaint, *, now: datetime) -> None:
    due = complaint.response_due_at
    borrower_zone = db.session.scalar(select(User.timezone).where(User.id == complaint.borrower_id))
    # The deadline is the end of a day: name the last day included, in the borrower's zone.
    last_moment = due.astimezone(ZoneInfo(borrower_zone or "UTC"))
    last_day = (last_moment - timedelta(microseconds=1)).date()

    def variables(locale: str) -> dict[str, str]:
        return {
            "complaint_reference": complaint.reference,
            "response_due_date": format_date(last_day, format="long", locale=locale),
        }

    for channel in (Channel.PORTAL, Channel.EMAIL):
        try:
            enqueue(
                borrower_id=complaint.borrower_id,
                purpose_code="complaint_acknowledgement",
                channel=channel,
                variables=variables,
                now=now,
                loan_id=complaint.loan_id,
                dedupe_key=f"complaint-ack:{complaint.id}:{channel.value}",
            )
        except (TemplateMissing, RenderFailed) as error:
            log.warning("complaint %s: not acknowledged by %s: %s", complaint.id, channel, error)


def investigate(
    staff: User, complaint_id: int, *, now: datetime, ip_address: str | None
) -> Complaint:
    complaint = complaint_for_staff(staff, complaint_id, lock=True)
    move(complaint, Action.INVESTIGATE, now=now, actor_id=staff.id, ip_address=ip_address)
    return complaint


def request_information(
    staff: User, complaint_id: int, body: str, *, now: datetime, ip_address: str | None
) -> Complaint:
    """Ask the borrower for something (a public message); the complaint awaits the borrower."""
    complaint = complaint_for_staff(staff, complaint_id, lock=True)
    text = checked_text(body, MessageInvalid)
    move(
        complaint,
        Action.REQUEST_INFO,
        now=now,
        actor_id=staff.id,
        ip_address=ip_address,
        body=text,
    )
    return complaint


def write(
    staff: User,
    complaint_id: int,
    body: str,
    *,
    internal: bool,
    now: datetime,
    ip_address: str | None,
) -> Complaint:
    """A public reply to the borrower, or an internal note (never shown to the borrower)."""
    complaint = complaint_for_staff(staff, complaint_id, lock=True)
    text = checked_text(body, MessageInvalid)
    kind = EventKind.NOTE if internal else EventKind.REPLY
    if not internal and complaint.status not in OPEN_STATUSES:
        raise NotOpen()
    add_event(complaint, kind, public=not internal, now=now, actor_id=staff.id, body=text)
    _audit(complaint, f"complaint.{kind.value}", staff, now, ip_address, {})
    return complaint


def extend_deadline(
    staff: User,
    complaint_id: int,
    reason: str,
    *,
    now: datetime,
    settings: ComplaintSettings,
    ip_address: str | None,
) -> Complaint:
    """Move the response deadline to the rulebook's next level. Every extension needs a
    reason (CN: the complexity; US_CFPB and UK_DISP: the holding reply, sent to the borrower);
    CN's second needs an administrator other than the handler (the supervisor)."""
    complaint = complaint_for_staff(staff, complaint_id, lock=True)
    if complaint.status not in OPEN_STATUSES:
        raise NotOpen()
    needs = extension_needs(complaint.rulebook_code, complaint.extension_level)
    if needs is None:
        raise ExtensionRefused(_l("The deadline cannot be extended any further."))
    reason = reason.strip()
    if not reason or len(reason) > 2000:
        raise ExtensionRefused(_l("Give the reason for the extension."))
    if needs is ExtensionNeeds.SUPERVISOR and (
        staff.role is not Role.ADMIN or staff.id == complaint.handler_id
    ):
        raise ExtensionRefused(_l("A further extension needs a supervisor's approval."))
    level = complaint.extension_level + 1
    clocks = complaint_clocks(
        complaint.rulebook_code,
        complaint.received_at,
        settings.timezone,
        business_calendar(complaint.rulebook_code),
        extension_level=level,
        acknowledge_business_days=settings.acknowledge_business_days,
    )
    complaint.extension_level = level
    complaint.extension_reason = reason
    complaint.response_due_at = clocks.respond_by
    add_event(complaint, EventKind.EXTENDED, public=False, now=now, actor_id=staff.id, body=reason)
    if needs is ExtensionNeeds.HOLDING_REPLY:
        add_event(complaint, EventKind.REPLY, public=True, now=now, actor_id=staff.id, body=reason)
    _audit(
        complaint,
        "complaint.extended",
        staff,
        now,
        ip_address,
        {"level": level, "respond_by": clocks.respond_by.isoformat(), "needs": needs.value},
    )
    return complaint


def escalate(
    staff: User, complaint_id: int, supervisor_id: int, *, now: datetime, ip_address: str | None
) -> Complaint:
    """Escalate an open complaint to a supervisor: an administrator, not recused, not its
    handler."""
    complaint = complaint_for_staff(staff, complaint_id, lock=True)
    if not may_escalate(complaint.status, complaint.escalated):
        raise EscalationRefused()
    supervisor = _eligible(supervisor_id, complaint, roles=(Role.ADMIN,))
    if supervisor.id == complaint.handler_id:
        raise ComplaintRefused(_l("The supervisor cannot be the complaint's handler."))
    complaint.escalated = True
    complaint.supervisor_id = supervisor.id
    add_event(
        complaint,
        EventKind.ESCALATED,
        public=False,
        now=now,
        actor_id=staff.id,
        body=supervisor.name,
    )
    _audit(complaint, "complaint.escalated", staff, now, ip_address, {"supervisor": supervisor.id})
    return complaint


def close(staff: User, complaint_id: int, *, now: datetime, ip_address: str | None) -> Complaint:
    complaint = complaint_for_staff(staff, complaint_id, lock=True)
    move(complaint, Action.CLOSE, now=now, actor_id=staff.id, ip_address=ip_address)
    complaint.closed_at = now
    return complaint


def reopen(
    actor: User,
    complaint: Complaint,
    body: str,
    *,
    now: datetime,
    settings: ComplaintSettings,
    ip_address: str | None,
) -> Complaint:
    """Reopen a resolved or closed complaint within the window (the borrower or a handler; the
    caller loaded and locked it for that person). Collection contact pauses again for a
    complaint about collecting."""
    text = body.strip()[:5000]
    move(
        complaint,
        Action.REOPEN,
        now=now,
        actor_id=actor.id,
        ip_address=ip_address,
        body=text,
        reopen_window=settings.reopen_window,
    )
    complaint.closed_at = None
    reopen_hold(complaint, actor_id=actor.id, now=now, ip_address=ip_address)
    return complaint


def _audit(
    complaint: Complaint, action: str, staff: User, now: datetime, ip: str | None, details: dict
) -> None:
    audit(
        action,
        now=now,
        actor_id=staff.id,
        object_type="complaint",
        object_id=complaint.id,
        details={"reference": complaint.reference, **details},
        ip_address=ip,
    )
    db.session.flush()
