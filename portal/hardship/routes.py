"""Hardship pages (blueprint ``hardship``): the borrower declares and follows a request, staff
open its documents, an admin decides it from the case page."""

from __future__ import annotations

import io

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.extensions import db
from portal.hardship import storage
from portal.hardship.decisions import Decision, decide_hardship
from portal.hardship.forms import DecisionForm, HardshipForm
from portal.hardship.labels import DECISION_LABELS, REASON_LABELS, STATUS_LABELS
from portal.hardship.models import HardshipDecision, HardshipDocument, HardshipReason
from portal.hardship.services import (
    HardshipRefused,
    HardshipSettings,
    declare_hardship,
    document_for_borrower,
    document_for_staff,
    requests_of_loan,
)
from portal.loans.adjustments import AdjustmentRefused
from portal.loans.models import Component
from portal.loans.services import loan_of_borrower
from portal.plans.enrollment import PlanRefused
from portal.timeutil import utcnow

bp = Blueprint("hardship", __name__)


def _settings() -> HardshipSettings:
    config = current_app.config
    return HardshipSettings(
        hold_days=config["HARDSHIP_HOLD_DAYS"],
        max_files=config["HARDSHIP_MAX_FILES"],
        max_file_bytes=config["HARDSHIP_MAX_FILE_BYTES"],
    )


def _uploads(form: HardshipForm, max_bytes: int) -> list[storage.Upload]:
    """The files sent (empty file inputs left out), each read to at most one byte over the
    limit so an oversized one is refused without being held whole."""
    uploads = []
    for item in request.files.getlist(form.documents.name):
        if not item or (not item.filename and not item.mimetype):
            continue
        try:
            data = item.stream.read(max_bytes + 1)
        finally:
            item.close()  # a large upload is spooled to a temporary file: release it now
        uploads.append(storage.Upload(item.filename or "", item.mimetype or "", data))
    return uploads


@bp.route("/loans/<int:loan_id>/hardship", methods=["GET", "POST"])
@role_required(Role.BORROWER)
def declare(loan_id: int):
    """Tell us about hardship on an overdue loan; the requests made and their decisions."""
    loan = loan_of_borrower(current_user.id, loan_id)
    form = HardshipForm()
    settings = _settings()
    status = 200
    if form.validate_on_submit():
        stored: list[str] = []
        try:
            made = declare_hardship(
                loan.id,
                borrower=current_user,
                reason=HardshipReason(form.reason.data),
                details=form.details.data or "",
                uploads=_uploads(form, settings.max_file_bytes),
                now=utcnow(),
                settings=settings,
                ip_address=request.remote_addr,
            )
            stored = [document.stored_name for document in made.documents]
            db.session.commit()
        except (HardshipRefused, storage.DocumentRefused) as error:
            db.session.rollback()
            storage.discard(stored)
            field = form.documents if isinstance(error, storage.DocumentRefused) else None
            if field is not None:
                field.errors = [*field.errors, error.message]
            else:
                form.form_errors.append(error.message)
            status = error.status_code
        else:
            flash(_("Thank you. We have received your request and will review it."), "success")
            return redirect(url_for("hardship.declare", loan_id=loan.id), code=303)
    elif request.method == "POST":
        status = 422
    return render_template(
        "borrower/hardship.html",
        loan=loan,
        form=form,
        requests=requests_of_loan(current_user.id, loan.id),
        reason_labels=REASON_LABELS,
        status_labels=STATUS_LABELS,
        decision_labels=DECISION_LABELS,
        settings=settings,
    ), status


def _send(document: HardshipDocument):
    # Read whole (at most HARDSHIP_MAX_FILE_BYTES): no file handle outlives the request.
    response = send_file(
        io.BytesIO(storage.path_of(document.stored_name).read_bytes()),
        mimetype=document.content_type,
        as_attachment=True,
        download_name=document.filename,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/hardship/documents/<int:document_id>")
@role_required(Role.BORROWER)
def document(document_id: int):
    """One of the borrower's own documents (404 for anyone else's)."""
    return _send(document_for_borrower(current_user.id, document_id))


@bp.get("/staff/hardship/documents/<int:document_id>")
@role_required(Role.COLLECTOR, Role.ADMIN)
def staff_document(document_id: int):
    """A document of a case the staff member may open (``authorized_case``)."""
    return _send(document_for_staff(current_user, document_id))


@bp.post("/staff/hardship/<int:request_id>/decide")
@role_required(Role.ADMIN)
def decide(request_id: int):
    """Decide a hardship request; back to its case (errors are flashed there)."""
    form = DecisionForm(prefix="hardship")
    case_id = request.form.get("case_id", type=int)
    back = (
        url_for("collections_cases.case", case_id=case_id, _anchor="hardship")
        if case_id
        else url_for("collections_cases.queue")
    )
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "danger")
        return redirect(back, code=303)
    decision = Decision(
        kind=HardshipDecision(form.decision.data),
        reason=form.reason.data or "",
        pause_days=form.pause_days.data,
        components=tuple(Component(value) for value in form.components.data or ()),
        plan_term=form.plan_term.data or None,
    )
    try:
        decided = decide_hardship(
            request_id, decision, admin=current_user, now=utcnow(), ip_address=request.remote_addr
        )
    except (HardshipRefused, AdjustmentRefused, PlanRefused) as error:
        db.session.rollback()
        flash(str(error.message), "danger")
        return redirect(back, code=303)
    db.session.commit()
    flash(_("Decision recorded; the borrower has been told."), "success")
    return redirect(
        url_for("collections_cases.case", case_id=decided.case_id, _anchor="hardship"), code=303
    )
