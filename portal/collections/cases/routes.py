"""The collector's work queue and case page, and every action recorded on a case.

Endpoints (blueprint ``collections_cases``, under /staff/collections), collectors and admins:
``queue``, ``case``, ``reveal``, and the actions ``log_call``, ``record_promise``, ``add_note``,
``send_message``, ``set_callback``, ``record_assessment``, ``message_emergency_contact``;
admins only: ``assign``.

Each POST parses its form (amounts in the case's currency), authorizes the case, calls one
service and commits once, then goes back to the case page with the result. A refused action
shows the page again with the error next to its form and the input kept (422); nothing is kept
of it.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import (
    Blueprint,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from portal.auth.models import Channel, Role
from portal.auth.permissions import role_required
from portal.collections import labels
from portal.collections.cases import forms
from portal.collections.cases.access import CaseNotOpen, authorized_case, borrower_timezone
from portal.collections.cases.actions import (
    CallRefused,
    InvalidNote,
    UnknownMessageChoice,
    add_note,
    keep_call_refusal,
    log_case_call,
    send_case_message,
)
from portal.collections.cases.assessments import InvalidAssessment, record_assessment
from portal.collections.cases.assignment import NotACollector, active_collectors, reassign_case
from portal.collections.cases.callbacks import CallbackRefused, set_callback
from portal.collections.cases.display import (
    borrower_time,
    message_result_text,
    refusal_text,
    since,
)
from portal.collections.cases.emergency_messages import message_emergency_contact
from portal.collections.cases.page import case_page
from portal.collections.cases.profile import reveal_contact
from portal.collections.cases.promises import PromiseRefused, record_promise
from portal.collections.cases.queue import queue_page
from portal.collections.models import ArrearsReason, CollectionCase, Willingness
from portal.converters import id_or_none
from portal.extensions import db
from portal.messaging.models import CallOutcome
from portal.messaging.templates import RenderFailed, TemplateMissing
from portal.templating import money
from portal.timeutil import portfolio_today, utcnow

bp = Blueprint("collections_cases", __name__, url_prefix="/staff/collections")
CASE_ROLES = (Role.COLLECTOR, Role.ADMIN)


def _collector_filter(text: str) -> int | str | None:
    text = text.strip()
    if text == "unassigned":
        return text
    return id_or_none(text)


@bp.get("/queue")
@role_required(*CASE_ROLES)
def queue():
    """Open cases in priority order with the reason for each; admins filter by collector."""
    form = forms.QueueFilterForm(request.args)
    form.validate()
    is_admin = current_user.role is Role.ADMIN
    collector = _collector_filter(form.collector.data or "") if is_admin else None
    now = utcnow()
    result = queue_page(
        viewer=current_user,
        now=now,
        today=portfolio_today(now),
        collector=collector,  # type: ignore[arg-type]
        page=form.page.data if form.page.data and not form.page.errors else 1,
    )
    return render_template(
        "staff/collections/queue.html",
        result=result,
        collector=collector,
        collectors=active_collectors() if is_admin else [],
        is_admin=is_admin,
        since=lambda value: since(value, now),
        priority_labels=labels.PRIORITY_LABELS,
    )


@bp.post("/cases/<int:case_id>/assign")
@role_required(Role.ADMIN)
def assign(case_id: int):
    """Admins: give an open case to another collector (audited ``case.reassigned``)."""
    form = forms.AssignForm()
    form.collector.choices = active_collectors()
    back = request.form.get("next", "")
    target = back if back.startswith("/staff/collections/") else url_for(".case", case_id=case_id)
    if not form.validate_on_submit():
        flash(_("Choose an active collector."), "danger")
        return redirect(target, code=303)
    try:
        case = reassign_case(
            case_id,
            viewer=current_user,
            collector_id=form.collector.data,
            now=utcnow(),
            ip_address=request.remote_addr,
        )
    except (NotACollector, CaseNotOpen) as error:
        db.session.rollback()
        flash(str(error.message), "danger")
        return redirect(target, code=303)
    db.session.commit()
    name = dict(form.collector.choices).get(case.assigned_to, "")
    flash(_("The case is now assigned to %(name)s.", name=name), "success")
    return redirect(target, code=303)


@bp.get("/cases/<int:case_id>")
@role_required(*CASE_ROLES)
def case(case_id: int):
    """The case: borrower (contact data masked), loans and schedules, timeline, actions."""
    return case_page(case_id)


@bp.post("/cases/<int:case_id>/reveal")
@role_required(*CASE_ROLES)
def reveal(case_id: int):
    """One masked field in full, for this page view only (audited ``case.pii_revealed``)."""
    form = forms.RevealForm()
    if not form.validate_on_submit():
        return case_page(case_id), 422
    value = reveal_contact(
        case_id,
        viewer=current_user,
        field=form.field.data,
        now=utcnow(),
        ip_address=request.remote_addr,
    )
    db.session.commit()
    if request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json":
        response = jsonify(field=form.field.data, value=value)
    else:
        response = make_response(case_page(case_id, revealed={form.field.data: value}))
    return response


# Refusals shown next to the form that caused them; anything else gets the error page.
SHOWN_ON_FORM = (
    PromiseRefused,
    CallRefused,
    CaseNotOpen,
    InvalidNote,
    CallbackRefused,
    UnknownMessageChoice,
    TemplateMissing,
    RenderFailed,
    InvalidAssessment,
)


class _Unparsed(Exception):
    """An amount did not parse; its field already carries the error."""


def _act(case_id: int, name: str, action: Callable[[FlaskForm], str | tuple[str, str]]):
    """Validate the ``name`` form, run ``action`` (one service call; returns what to flash,
    optionally with its category), commit and go back to the case; or show the errors (422)."""
    form = forms.ACTION_FORMS[name](prefix=name)
    if form.validate_on_submit():
        try:
            outcome = action(form)
        except _Unparsed:
            db.session.rollback()
        except SHOWN_ON_FORM as error:
            db.session.rollback()  # a refused action keeps nothing...
            if isinstance(error, CallRefused):
                keep_call_refusal(error)  # ...but a refused call's refusal stays on record
                db.session.commit()
            field = getattr(form, getattr(error, "field", None) or "", None)
            if field is not None:
                field.errors = [*field.errors, refusal_text(error)]
            else:
                form.form_errors.append(refusal_text(error))
        else:
            db.session.commit()
            text, category = outcome if isinstance(outcome, tuple) else (outcome, "success")
            flash(text, category)
            return redirect(url_for(".case", case_id=case_id, _anchor="timeline"), code=303)
    return case_page(case_id, {name: form}), 422


def _amount(field, case: CollectionCase, required: bool = False) -> int | None:
    value = forms.amount_of(field, case.currency)
    if field.errors or (required and value is None):
        raise _Unparsed()
    return value


@bp.post("/cases/<int:case_id>/calls", endpoint="log_call")
@role_required(*CASE_ROLES)
def log_call_view(case_id: int):
    """Log a call through the contact rules; "promise to pay" records the promise with it."""
    case = authorized_case(case_id, current_user)

    def action(form) -> str:
        outcome = CallOutcome(form.outcome.data)
        promised = outcome is CallOutcome.PROMISE_TO_PAY
        result = log_case_call(
            case_id,
            viewer=current_user,
            outcome=outcome,
            now=utcnow(),
            note=form.note.data or "",
            promised_amount=_amount(form.amount, case, required=True) if promised else None,
            promised_on=form.promised_on.data if promised else None,
            ip_address=request.remote_addr,
        )
        if result.promise is not None:
            return _(
                "Call logged, with a promise to pay %(amount)s by %(date)s.",
                amount=money(result.promise.amount_minor, result.promise.currency),
                date=format_date(result.promise.promised_on, "medium"),
            )
        outcome_label = labels.label(labels.CALL_OUTCOME_LABELS, outcome.value)
        return _("Call logged: %(outcome)s.", outcome=outcome_label)

    return _act(case_id, "call", action)


@bp.post("/cases/<int:case_id>/promises", endpoint="record_promise")
@role_required(*CASE_ROLES)
def record_promise_view(case_id: int):
    """Record a promise to pay (at most one pending promise per case)."""
    case = authorized_case(case_id, current_user)

    def action(form) -> str:
        promise = record_promise(
            case_id,
            viewer=current_user,
            amount_minor=_amount(form.amount, case, required=True) or 0,
            promised_on=form.promised_on.data,
            now=utcnow(),
            ip_address=request.remote_addr,
        )
        return _(
            "Promise to pay %(amount)s by %(date)s recorded.",
            amount=money(promise.amount_minor, promise.currency),
            date=format_date(promise.promised_on, "medium"),
        )

    return _act(case_id, "promise", action)


@bp.post("/cases/<int:case_id>/notes", endpoint="add_note")
@role_required(*CASE_ROLES)
def add_note_view(case_id: int):
    """Add a note (closed cases too)."""
    authorized_case(case_id, current_user)

    def action(form) -> str:
        add_note(
            case_id,
            viewer=current_user,
            body=form.body.data,
            now=utcnow(),
            ip_address=request.remote_addr,
        )
        return _("Note added.")

    return _act(case_id, "note", action)


@bp.post("/cases/<int:case_id>/messages", endpoint="send_message")
@role_required(*CASE_ROLES)
def send_message_view(case_id: int):
    """Queue an overdue notice through the outbox; the result says queued, deferred or blocked."""
    case = authorized_case(case_id, current_user)

    def action(form) -> tuple[str, str]:
        now = utcnow()
        result = send_case_message(
            case_id,
            viewer=current_user,
            purpose_code=form.purpose.data,
            channel=Channel(form.channel.data),
            now=now,
            ip_address=request.remote_addr,
        )
        return message_result_text(result, borrower_timezone(case), now)

    return _act(case_id, "message", action)


@bp.post(
    "/cases/<int:case_id>/emergency-contacts/<int:contact_id>/messages",
    endpoint="message_emergency_contact",
)
@role_required(*CASE_ROLES)
def message_emergency_contact_view(case_id: int, contact_id: int):
    """Ask an emergency contact to pass on a message; the result names the guard's decision."""
    case = authorized_case(case_id, current_user)

    def action(form) -> tuple[str, str]:
        now = utcnow()
        result = message_emergency_contact(
            case_id,
            viewer=current_user,
            emergency_contact_id=contact_id,
            now=now,
            ip_address=request.remote_addr,
        )
        return message_result_text(result, borrower_timezone(case), now)

    return _act(case_id, "emergency", action)


@bp.post("/cases/<int:case_id>/callback", endpoint="set_callback")
@role_required(*CASE_ROLES)
def set_callback_view(case_id: int):
    """Set when to call back, entered in the borrower's time zone."""
    case = authorized_case(case_id, current_user)

    def action(form) -> str:
        at = set_callback(
            case_id,
            viewer=current_user,
            local_time=form.callback_at.data,
            now=utcnow(),
            ip_address=request.remote_addr,
        )
        when = borrower_time(at, borrower_timezone(case), "short")
        return _("Callback set for %(when)s (the borrower's time).", when=when)

    return _act(case_id, "callback", action)


@bp.post("/cases/<int:case_id>/assessments", endpoint="record_assessment")
@role_required(*CASE_ROLES)
def record_assessment_view(case_id: int):
    """Record the assessment of ability and willingness to pay."""
    case = authorized_case(case_id, current_user)

    def action(form) -> str:
        record_assessment(
            case_id,
            viewer=current_user,
            income_situation=form.income_situation.data,
            monthly_income_minor=_amount(form.monthly_income, case),
            arrears_reason=ArrearsReason(form.arrears_reason.data),
            willingness=Willingness(form.willingness.data),
            can_pay_minor_per_month=_amount(form.can_pay, case),
            next_step=form.next_step.data,
            now=utcnow(),
            ip_address=request.remote_addr,
        )
        return _("Assessment recorded.")

    return _act(case_id, "assessment", action)
