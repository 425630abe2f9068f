"""The complaint console (blueprint ``complaints_staff``, ``/staff/complaints``): the queue, one
complaint with its thread and internal notes, the handling steps, and the business calendar.

Agents and admins handle complaints; collectors do not (they may be the subject of one). Each
step: validate the form, call one service, commit once, 303 back; a refusal rolls back and is
flashed on the complaint's page.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.auth.forms import EmptyForm
from portal.auth.models import Role, User
from portal.auth.permissions import role_required
from portal.collections.models import CaseStatus, CollectionCase
from portal.complaints import handling
from portal.complaints.calendar import add_calendar_day, calendar_days, remove_calendar_day
from portal.complaints.clocks import COMPLAINT_RULEBOOKS, SlaState
from portal.complaints.forms import (
    CalendarDayForm,
    PersonForm,
    ReasonForm,
    ResolveForm,
    StaffMessageForm,
)
from portal.complaints.from_chat import transcript
from portal.complaints.labels import COMPLAINT_LABELS
from portal.complaints.lifecycle import OPEN_STATUSES, allowed_actions, may_escalate
from portal.complaints.models import (
    CalendarDayKind,
    ComplaintAttachment,
    ComplaintCategory,
    ComplaintStatus,
    Remedy,
    RootCause,
)
from portal.complaints.queue import QueueFilters, complaint_queue, complaint_sla, handlers
from portal.complaints.remedies import Resolution, resolve
from portal.complaints.uploads import send_attachment, settings
from portal.domain import DomainError
from portal.extensions import db
from portal.loans.adjustments import AdjustmentRefused
from portal.loans.models import Component
from portal.support.payloads import message_payloads
from portal.timeutil import utcnow

bp = Blueprint("complaints_staff", __name__, url_prefix="/staff/complaints")
HANDLERS = (Role.AGENT, Role.ADMIN)


def _enum_arg(name: str, enum_class):
    value = request.args.get(name) or None
    try:
        return enum_class(value) if value else None
    except ValueError:
        return None


@bp.get("/")
@role_required(*HANDLERS)
def queue():
    """Complaints by deadline, filtered by category, status, SLA state and handler."""
    handler = request.args.get("handler", "")
    filters = QueueFilters(
        category=_enum_arg("category", ComplaintCategory),
        status=_enum_arg("status", ComplaintStatus),
        sla=_enum_arg("sla", SlaState),
        handler_id=current_user.id if handler == "me" else None,
        unassigned=handler == "none",
    )
    return render_template(
        "staff/complaints/queue.html",
        rows=complaint_queue(filters, utcnow()),
        filters=filters,
        handler=handler,
        labels=COMPLAINT_LABELS,
    )


@bp.get("/<int:complaint_id>")
@role_required(*HANDLERS)
def complaint(complaint_id: int):
    """One complaint: the clocks, the whole thread with internal notes, files, the borrower's
    case, and the steps the lifecycle allows now."""
    item = handling.complaint_for_staff(current_user, complaint_id)
    now = utcnow()
    recused = handling.recused_staff(item)
    people = {
        user.id: user
        for user in db.session.scalars(
            select(User).where(
                User.id.in_(
                    {e.actor_id for e in item.events if e.actor_id}
                    | {
                        item.borrower_id,
                        item.handler_id or 0,
                        item.supervisor_id or 0,
                        item.subject_staff_id or 0,
                    }
                )
            )
        )
    }
    cases = db.session.scalars(
        select(CollectionCase)
        .where(CollectionCase.borrower_id == item.borrower_id)
        .order_by(CollectionCase.status != CaseStatus.OPEN, CollectionCase.id.desc())
    ).all()
    return render_template(
        "staff/complaints/complaint.html",
        complaint=item,
        transcript=message_payloads(
            transcript(item, include_private=True), for_staff=True, now=now
        ),
        people=people,
        cases=cases,
        sla=complaint_sla(item, now),
        actions={action.value for action in allowed_actions(item.status)},
        is_open=item.status in OPEN_STATUSES,
        can_escalate=may_escalate(item.status, item.escalated),
        candidates=[u for u in handlers() if u.id not in recused],
        supervisors=[
            u
            for u in handlers()
            if u.role is Role.ADMIN and u.id not in recused and u.id != item.handler_id
        ],
        staff=db.session.scalars(
            select(User).where(User.role != Role.BORROWER).order_by(User.name, User.id)
        ).all(),
        labels=COMPLAINT_LABELS,
        message_form=StaffMessageForm(),
        reason_form=ReasonForm(),
        person_form=PersonForm(),
        resolve_form=ResolveForm(),
    )


def _step(complaint_id: int, form_class, call: Callable, done: str):
    """Validate ``form_class``, run ``call(form)``, commit, flash ``done``; a refusal or an
    invalid form rolls back and is flashed. Back to the complaint either way."""
    form = form_class()
    back = redirect(url_for("complaints_staff.complaint", complaint_id=complaint_id), code=303)
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "danger")
        return back
    try:
        call(form)
    except (DomainError, AdjustmentRefused) as error:
        db.session.rollback()
        flash(str(error.message), "danger")
        return back
    db.session.commit()
    flash(done, "success")
    return back


def _context() -> dict:
    return {"now": utcnow(), "ip_address": request.remote_addr}


@bp.post("/<int:complaint_id>/acknowledge")
@role_required(*HANDLERS)
def acknowledge(complaint_id: int):
    return _step(
        complaint_id,
        EmptyForm,
        lambda form: handling.acknowledge(current_user, complaint_id, **_context()),
        _("Acknowledged; the borrower has been told the deadline."),
    )


@bp.post("/<int:complaint_id>/investigate")
@role_required(*HANDLERS)
def investigate(complaint_id: int):
    return _step(
        complaint_id,
        EmptyForm,
        lambda form: handling.investigate(current_user, complaint_id, **_context()),
        _("The complaint is under investigation."),
    )


@bp.post("/<int:complaint_id>/message")
@role_required(*HANDLERS)
def message(complaint_id: int):
    """A public reply or an internal note."""
    return _step(
        complaint_id,
        StaffMessageForm,
        lambda form: handling.write(
            current_user, complaint_id, form.body.data, internal=form.internal.data, **_context()
        ),
        _("Added to the thread."),
    )


@bp.post("/<int:complaint_id>/request-information")
@role_required(*HANDLERS)
def request_information(complaint_id: int):
    return _step(
        complaint_id,
        ReasonForm,
        lambda form: handling.request_information(
            current_user, complaint_id, form.body.data, **_context()
        ),
        _("The borrower has been asked."),
    )


@bp.post("/<int:complaint_id>/extend")
@role_required(*HANDLERS)
def extend(complaint_id: int):
    return _step(
        complaint_id,
        ReasonForm,
        lambda form: handling.extend_deadline(
            current_user, complaint_id, form.body.data, settings=settings(), **_context()
        ),
        _("The deadline has been extended."),
    )


def _person(form: PersonForm) -> int:
    if form.user_id.data is None:
        raise handling.ComplaintRefused(_("Choose a member of staff."))
    return form.user_id.data


@bp.post("/<int:complaint_id>/assign")
@role_required(*HANDLERS)
def assign(complaint_id: int):
    return _step(
        complaint_id,
        PersonForm,
        lambda form: handling.assign(current_user, complaint_id, _person(form), **_context()),
        _("Assigned."),
    )


@bp.post("/<int:complaint_id>/escalate")
@role_required(*HANDLERS)
def escalate(complaint_id: int):
    return _step(
        complaint_id,
        PersonForm,
        lambda form: handling.escalate(current_user, complaint_id, _person(form), **_context()),
        _("Escalated to the supervisor."),
    )


@bp.post("/<int:complaint_id>/subject")
@role_required(*HANDLERS)
def subject(complaint_id: int):
    """Name the staff member whose conduct the complaint is about (or nobody)."""
    return _step(
        complaint_id,
        PersonForm,
        lambda form: handling.set_subject_staff(
            current_user, complaint_id, form.user_id.data, **_context()
        ),
        _("Saved. That person can no longer handle this complaint."),
    )


@bp.post("/<int:complaint_id>/resolve")
@role_required(*HANDLERS)
def resolve_complaint(complaint_id: int):
    def call(form: ResolveForm):
        resolve(
            current_user,
            complaint_id,
            Resolution(
                text=form.resolution.data,
                remedy=Remedy(form.remedy.data),
                root_cause=RootCause(form.root_cause.data),
                systemic=bool(form.systemic.data),
                components=tuple(Component(value) for value in form.components.data or ()),
            ),
            **_context(),
        )

    return _step(complaint_id, ResolveForm, call, _("Resolved; the borrower can see the answer."))


@bp.post("/<int:complaint_id>/close")
@role_required(*HANDLERS)
def close(complaint_id: int):
    return _step(
        complaint_id,
        EmptyForm,
        lambda form: handling.close(current_user, complaint_id, **_context()),
        _("Closed."),
    )


@bp.post("/<int:complaint_id>/reopen")
@role_required(*HANDLERS)
def reopen(complaint_id: int):
    def call(form: ReasonForm):
        item = handling.complaint_for_staff(current_user, complaint_id, lock=True)
        handling.reopen(current_user, item, form.body.data, settings=settings(), **_context())

    return _step(complaint_id, ReasonForm, call, _("Reopened."))


@bp.get("/attachments/<int:attachment_id>")
@role_required(*HANDLERS)
def attachment(attachment_id: int):
    """A complaint's file, for its handlers."""
    row = db.session.get(ComplaintAttachment, attachment_id)
    if row is None:
        abort(404)
    handling.complaint_for_staff(current_user, row.complaint_id)
    return send_attachment(row)


@bp.route("/calendar/<code>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def calendar(code: str):
    """The business calendar of a complaint rulebook: holidays and worked weekend days."""
    if code not in COMPLAINT_RULEBOOKS:
        abort(404)
    form = CalendarDayForm()
    status = 200
    if form.validate_on_submit():
        try:
            add_calendar_day(
                code,
                form.day.data,
                CalendarDayKind(form.kind.data),
                form.name.data or "",
                actor_id=current_user.id,
                **_context(),
            )
        except DomainError as error:
            db.session.rollback()
            form.day.errors = [*form.day.errors, error.message]
            status = error.status_code
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("complaints_staff.calendar", code=code), code=303)
    elif request.method == "POST":
        status = 422
    return render_template(
        "staff/complaints/calendar.html",
        code=code,
        codes=sorted(COMPLAINT_RULEBOOKS),
        days=calendar_days(code),
        form=form,
    ), status


@bp.post("/calendar/<code>/<int:day_id>/delete")
@role_required(Role.ADMIN)
def calendar_delete(code: str, day_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        remove_calendar_day(day_id, actor_id=current_user.id, **_context())
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "danger")
    else:
        db.session.commit()
        flash(_("Removed."), "success")
    return redirect(url_for("complaints_staff.calendar", code=code), code=303)
