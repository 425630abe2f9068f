"""Staff pages of legal escalation (blueprint ``collections_legal``, under /staff/collections).

Collectors (on their assigned cases) and admins: ``request_form``/``request_submit`` (the
evidence checklist and the request), ``bundle`` (evidence ZIP: a POST, once approved; admins
always), ``letter_produce``,
``letter_html``, ``letter_pdf``. Admins only: ``requests``/``decide`` (pending requests),
``placement``, ``recall``, ``agency_update``, ``placements_csv``.

Each POST parses its form, calls one service, commits once and redirects (303); a refusal
re-renders the page with the reason and the service's status, nothing changed.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from portal.auth.forms import EmptyForm
from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.collections.legal import forms, services
from portal.collections.legal.access import Actor
from portal.collections.legal.agency import (
    place_with_agency,
    recall_placement,
    record_agency_update,
    start_placements_export,
)
from portal.collections.legal.disclosure import disclose_bundle
from portal.collections.legal.evidence import ITEM_LABELS, ITEMS
from portal.collections.legal.letters import (
    letter_document,
    produce_letter,
    render_letter_html,
    render_letter_pdf,
)
from portal.collections.legal.queries import (
    case_legal_page,
    pending_requests,
    recent_decisions,
)
from portal.domain import DomainError
from portal.extensions import db
from portal.timeutil import utcnow

bp = Blueprint("collections_legal", __name__, url_prefix="/staff/collections")
CASE_STAFF = (Role.COLLECTOR, Role.ADMIN)


def _actor() -> Actor:
    return Actor(id=current_user.id, role=current_user.role, name=current_user.name)


def _case_page(case_id: int, *, submitted: FlaskForm | None = None, error=None, status=200):
    page = case_legal_page(case_id, actor=_actor(), now=utcnow())
    page_forms = {
        "request": forms.LegalRequestForm(formdata=None),
        "letter": EmptyForm(formdata=None),
        "placement": forms.PlacementForm(formdata=None),
        "recall": forms.RecallForm(formdata=None),
        "agency_update": forms.AgencyUpdateForm(formdata=None),
    }
    if submitted is not None:
        for name, form in page_forms.items():
            if type(form) is type(submitted):
                page_forms[name] = submitted
    return (
        render_template(
            "staff/collections/legal/case.html",
            page=page,
            forms=page_forms,
            error=error,
            item_labels=ITEM_LABELS,
            items=ITEMS,
            is_admin=current_user.role is Role.ADMIN,
        ),
        status,
    )


def _act(case_id: int, form: FlaskForm, action: Callable[[], object], done: str):
    """Validate ``form``, run the service, commit, redirect; or show why not (nothing saved)."""
    if not form.validate_on_submit():
        return _case_page(case_id, submitted=form, status=422)
    try:
        action()
    except DomainError as error:
        if error.status_code in (403, 404):
            raise  # not theirs, or not there: the error page, not the case page
        db.session.rollback()
        return _case_page(case_id, submitted=form, error=error.message, status=error.status_code)
    db.session.commit()
    flash(done, "success")
    return redirect(url_for(".request_form", case_id=case_id), code=303)


def _context() -> dict:
    return {"actor": _actor(), "now": utcnow(), "ip_address": request.remote_addr}


@bp.get("/cases/<int:case_id>/legal/request")
@role_required(*CASE_STAFF)
def request_form(case_id: int):
    """The evidence checklist, the request form, and the case's legal history."""
    return _case_page(case_id)


@bp.post("/cases/<int:case_id>/legal/request")
@role_required(*CASE_STAFF)
def request_submit(case_id: int):
    form = forms.LegalRequestForm()
    return _act(
        case_id,
        form,
        lambda: services.request_legal(case_id, reason=form.reason.data or "", **_context()),
        _("Legal approval requested. An admin will decide."),
    )


@bp.post("/cases/<int:case_id>/legal/bundle.zip")
@role_required(*CASE_STAFF)
def bundle(case_id: int):
    """The evidence ZIP, a disclosure of personal data: a CSRF-protected POST, audited; refused
    (on the legal page) until a legal request is approved, except for admins."""
    if not EmptyForm().validate_on_submit():
        return _case_page(case_id, status=422)
    try:
        built = disclose_bundle(case_id, **_context())
    except DomainError as error:
        if error.status_code in (403, 404):
            raise
        db.session.rollback()
        return _case_page(case_id, error=error.message, status=error.status_code)
    db.session.commit()
    response = send_file(
        io.BytesIO(built.content),
        mimetype="application/zip",
        as_attachment=True,
        download_name=built.filename,
        max_age=0,
    )
    response.headers["X-Manifest-SHA256"] = built.manifest_sha256
    return response


@bp.post("/cases/<int:case_id>/legal/letter")
@role_required(*CASE_STAFF)
def letter_produce(case_id: int):
    return _act(
        case_id,
        EmptyForm(),
        lambda: produce_letter(case_id, **_context()),
        _("The lawyer letter was written and queued to the borrower."),
    )


@bp.get("/cases/<int:case_id>/legal/letter.html")
@role_required(*CASE_STAFF)
def letter_html(case_id: int):
    return render_letter_html(letter_document(case_id, actor=_actor()))


@bp.get("/cases/<int:case_id>/legal/letter.pdf")
@role_required(*CASE_STAFF)
def letter_pdf(case_id: int):
    document = letter_document(case_id, actor=_actor())
    response = Response(render_letter_pdf(document), mimetype="application/pdf")
    name = f"lawyer-letter-{document.letter_reference}.pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    return response


@bp.post("/cases/<int:case_id>/legal/placement")
@role_required(Role.ADMIN)
def placement(case_id: int):
    form = forms.PlacementForm()
    return _act(
        case_id,
        form,
        lambda: place_with_agency(case_id, agency=form.agency.data or "", **_context()),
        _("The case was placed with the agency."),
    )


@bp.post("/cases/<int:case_id>/legal/recall")
@role_required(Role.ADMIN)
def recall(case_id: int):
    form = forms.RecallForm()
    return _act(
        case_id,
        form,
        lambda: recall_placement(case_id, note=form.note.data or "", **_context()),
        _("The case was recalled from the agency."),
    )


@bp.post("/cases/<int:case_id>/legal/agency-update")
@role_required(Role.ADMIN)
def agency_update(case_id: int):
    form = forms.AgencyUpdateForm()
    return _act(
        case_id,
        form,
        lambda: record_agency_update(
            case_id, status=form.status.data or "", note=form.note.data or "", **_context()
        ),
        _("The agency's update was recorded."),
    )


def _requests_page(submitted: forms.DecisionForm | None = None, error=None, status=200):
    return (
        render_template(
            "staff/collections/legal/requests.html",
            pending=pending_requests(),
            decided=recent_decisions(),
            submitted=submitted,
            error=error,
            blank=forms.DecisionForm(formdata=None),
            items=ITEMS,
            item_labels=ITEM_LABELS,
        ),
        status,
    )


@bp.get("/legal/requests")
@role_required(Role.ADMIN)
def requests():
    """Pending legal requests, oldest first, with approve and reject; recent decisions below."""
    return _requests_page()


@bp.post("/legal/requests")
@role_required(Role.ADMIN)
def decide():
    form = forms.DecisionForm()
    if not form.validate_on_submit():
        return _requests_page(form, status=422)
    approve = form.decision.data == "approve"
    try:
        services.decide_request(
            form.request_id.data or 0, approve=approve, note=form.note.data or "", **_context()
        )
    except DomainError as error:
        if error.status_code in (403, 404):
            raise
        db.session.rollback()
        return _requests_page(form, error=error.message, status=error.status_code)
    db.session.commit()
    flash(
        _("Approved: the case is now in the legal stage.") if approve else _("Rejected."), "success"
    )
    return redirect(url_for(".requests"), code=303)


@bp.get("/legal/placements.csv")
@role_required(Role.ADMIN)
def placements_csv():
    """Active placements, streamed a row at a time (UTF-8 with BOM for spreadsheets)."""
    context = _context()
    chunks = start_placements_export(**context)
    db.session.commit()  # the audit event stands even if the download is interrupted
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    name = f"agency-placements-{context['now']:%Y%m%d}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
