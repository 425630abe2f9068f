"""The collector's work queue and case page, and every action recorded on a case.

Endpoints (blueprint ``collections_staff``, under /staff/collections), collectors and admins:
``queue``, ``case``, ``reveal``, and the actions in ``portal/collections/cases/action_routes.py``
(``log_call``, ``record_promise``, ``add_note``, ``send_message``, ``set_callback``,
``record_assessment``, ``message_emergency_contact``); admins only: ``assign``.

Each POST parses its form, authorizes the case, calls one service and commits once.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.routing import BuildError

from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.collections import forms, labels
from portal.collections.cases.access import CaseNotOpen
from portal.collections.cases.assignment import NotACollector, active_collectors, reassign_case
from portal.collections.cases.display import borrower_time, since
from portal.collections.cases.profile import case_view, reveal_contact
from portal.collections.cases.queue import queue_page
from portal.collections.cases.timeline import case_timeline
from portal.extensions import db
from portal.messaging.purposes import PURPOSES
from portal.timeutil import portfolio_today, utcnow

bp = Blueprint("collections_staff", __name__, url_prefix="/staff/collections")
CASE_ROLES = (Role.COLLECTOR, Role.ADMIN)
LEGAL_ENDPOINT = "collections_legal.request_form"
FORMS: dict[str, type[FlaskForm]] = {
    "call": forms.CallForm,
    "promise": forms.PromiseForm,
    "note": forms.NoteForm,
    "message": forms.MessageForm,
    "callback": forms.CallbackForm,
    "assessment": forms.AssessmentForm,
    "emergency": forms.EmergencyMessageForm,
}


def _collector_filter(text: str) -> int | str | None:
    text = text.strip()
    if text == "unassigned":
        return text
    return int(text) if text.isdigit() else None


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


def _legal_url(case_id: int) -> str | None:
    """The legal request form, once the legal capability is installed (no link before)."""
    if LEGAL_ENDPOINT not in current_app.view_functions:
        return None
    try:
        return url_for(LEGAL_ENDPOINT, case_id=case_id)
    except BuildError:
        return None


def case_page(case_id: int, submitted: dict[str, FlaskForm] | None = None, revealed=None):
    """The case page, with the forms just submitted (errors, input) in place of blank ones."""
    now = utcnow()
    view = case_view(case_id, viewer=current_user, now=now)
    timezone = view.borrower.timezone
    action_forms = {name: form(formdata=None, prefix=name) for name, form in FORMS.items()}
    action_forms.update(submitted or {})
    assign_form = None
    if current_user.role is Role.ADMIN:
        assign_form = forms.AssignForm(formdata=None, collector=view.case.assigned_to)
        assign_form.collector.choices = active_collectors()
    return render_template(
        "staff/collections/case.html",
        view=view,
        case=view.case,
        timeline=case_timeline(view.case),
        forms=action_forms,
        submitted_name=next(iter(submitted or {}), None),
        purposes=PURPOSES,
        assign_form=assign_form,
        reveal_form=forms.RevealForm(formdata=None),
        revealed=revealed or {},
        legal_url=_legal_url(case_id),
        labels=labels,
        now=now,
        local=lambda value, fmt="short": borrower_time(value, timezone, fmt),
        since=lambda value: since(value, now),
    )


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
    response.headers["Cache-Control"] = "no-store"  # personal data: never kept in a cache
    return response


# The action routes attach their views to ``bp`` when imported.
from portal.collections.cases import action_routes  # noqa: E402

__all__ = ["action_routes", "bp"]
