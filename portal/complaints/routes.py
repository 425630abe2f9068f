"""The borrower's complaint pages (blueprint ``complaints``): list, file, follow, reply with
evidence, withdraw, reopen, rate, and open their own files."""

from __future__ import annotations

import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.forms import EmptyForm
from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.complaints import attachments
from portal.complaints.forms import ComplaintForm, RatingForm, ReplyForm
from portal.complaints.from_chat import transcript
from portal.complaints.handling import reopen
from portal.complaints.labels import COMPLAINT_LABELS
from portal.complaints.lifecycle import OPEN_STATUSES, TransitionRefused
from portal.complaints.models import ComplaintCategory, ComplaintChannel, ComplaintStatus
from portal.complaints.services import (
    ComplaintRefused,
    borrower_reply,
    complaint_for_borrower,
    complaints_of_borrower,
    file_complaint,
    rate,
    withdraw,
)
from portal.complaints.uploads import send_attachment, settings, uploads_of
from portal.domain import DomainError
from portal.extensions import db
from portal.forms import choices
from portal.hardship.storage import DocumentRefused
from portal.loans.services import loans_of_borrower
from portal.support.payloads import message_payloads
from portal.timeutil import utcnow

bp = Blueprint("complaints", __name__)
REFERENCE = re.compile(r"^CMP-\d{4}-\d{6,}$")


def _own(reference: str, lock: bool = False):
    if not REFERENCE.fullmatch(reference):
        abort(404)
    return complaint_for_borrower(current_user.id, reference, lock=lock)


@bp.get("/complaints")
@role_required(Role.BORROWER)
def index():
    """The borrower's complaints and where each stands."""
    return render_template(
        "borrower/complaints.html",
        complaints=complaints_of_borrower(current_user.id),
        labels=COMPLAINT_LABELS,
        now=utcnow(),
    )


@bp.route("/complaints/new", methods=["GET", "POST"])
@role_required(Role.BORROWER)
def new():
    """File a complaint: a category, what happened, the loan it concerns, evidence."""
    form = ComplaintForm()
    loans = loans_of_borrower(current_user.id)
    form.loan_id.choices = choices(
        {"": _("None"), **{str(loan.id): loan.reference for loan in loans}}
    )
    if request.method == "GET" and request.args.get("loan_id"):
        form.loan_id.data = request.args.get("loan_id")
    status = 200
    if form.validate_on_submit():
        config = settings()
        now = utcnow()
        try:
            complaint = file_complaint(
                borrower=current_user,
                category=ComplaintCategory(form.category.data),
                description=form.description.data or "",
                loan_id=int(form.loan_id.data) if form.loan_id.data else None,
                payment_id=None,
                uploads=uploads_of(form.attachments.name, config.max_file_bytes),
                channel=ComplaintChannel.PORTAL,
                received_at=now,
                now=now,
                settings=config,
                ip_address=request.remote_addr,
            )
            db.session.commit()
            attachments.forget_written()
        except (ComplaintRefused, DocumentRefused) as error:
            db.session.rollback()
            attachments.discard_written()
            target = form.attachments if isinstance(error, DocumentRefused) else form.description
            target.errors = [*target.errors, error.message]
            status = error.status_code
        else:
            flash(
                _(
                    "Thank you. Your complaint has the reference %(reference)s.",
                    reference=complaint.reference,
                ),
                "success",
            )
            return redirect(url_for("complaints.detail", reference=complaint.reference), code=303)
    elif request.method == "POST":
        status = 422
    return render_template(
        "borrower/complaint_new.html", form=form, labels=COMPLAINT_LABELS, settings=settings()
    ), status


@bp.get("/complaints/<reference>")
@role_required(Role.BORROWER)
def detail(reference: str):
    """Status in the borrower's words, the deadline, the public thread, and what they can do."""
    complaint = _own(reference)
    return render_template(
        "borrower/complaint.html",
        complaint=complaint,
        transcript=message_payloads(
            transcript(complaint, include_private=False), for_staff=False, now=utcnow()
        ),
        events=[event for event in complaint.events if event.public],
        labels=COMPLAINT_LABELS,
        reply_form=ReplyForm(),
        rating_form=RatingForm(),
        is_open=complaint.status in OPEN_STATUSES,
        answered=complaint.status in (ComplaintStatus.RESOLVED, ComplaintStatus.CLOSED),
        settings=settings(),
    )


def _back(reference: str):
    return redirect(url_for("complaints.detail", reference=reference), code=303)


def _refused(error: DomainError, reference: str):
    db.session.rollback()
    attachments.discard_written()
    flash(str(error.message), "danger")
    return _back(reference)


@bp.post("/complaints/<reference>/reply")
@role_required(Role.BORROWER)
def reply(reference: str):
    """A message and/or evidence on an open complaint."""
    _own(reference)
    form = ReplyForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "danger")
        return _back(reference)
    config = settings()
    try:
        borrower_reply(
            current_user,
            reference,
            form.body.data or "",
            uploads_of(form.attachments.name, config.max_file_bytes),
            now=utcnow(),
            settings=config,
            ip_address=request.remote_addr,
        )
    except (DomainError, DocumentRefused) as error:
        return _refused(error, reference)
    db.session.commit()
    attachments.forget_written()
    flash(_("Your message has been added."), "success")
    return _back(reference)


@bp.post("/complaints/<reference>/withdraw")
@role_required(Role.BORROWER)
def withdraw_complaint(reference: str):
    _own(reference)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        withdraw(current_user, reference, now=utcnow(), ip_address=request.remote_addr)
    except DomainError as error:
        return _refused(error, reference)
    db.session.commit()
    flash(_("Your complaint has been withdrawn."), "success")
    return _back(reference)


@bp.post("/complaints/<reference>/reopen")
@role_required(Role.BORROWER)
def reopen_complaint(reference: str):
    """Not satisfied: reopen within the window, saying why."""
    form = ReplyForm()
    if not form.validate_on_submit():
        abort(400)
    complaint = _own(reference, lock=True)
    try:
        reopen(
            current_user,
            complaint,
            form.body.data or "",
            now=utcnow(),
            settings=settings(),
            ip_address=request.remote_addr,
        )
    except TransitionRefused as error:
        return _refused(error, reference)
    db.session.commit()
    flash(_("Your complaint has been reopened."), "success")
    return _back(reference)


@bp.post("/complaints/<reference>/rate")
@role_required(Role.BORROWER)
def rate_answer(reference: str):
    _own(reference)
    form = RatingForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        rate(
            current_user,
            reference,
            int(form.rating.data),
            now=utcnow(),
            ip_address=request.remote_addr,
        )
    except DomainError as error:
        return _refused(error, reference)
    db.session.commit()
    flash(_("Thank you for your rating."), "success")
    return _back(reference)


@bp.get("/complaints/attachments/<int:attachment_id>")
@role_required(Role.BORROWER)
def attachment(attachment_id: int):
    """A file of the borrower's own complaint (404 for anyone else's)."""
    return send_attachment(attachments.attachment_for_borrower(current_user.id, attachment_id))
