"""The one click in the support console that turns a conversation into a complaint."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.complaints.forms import FromChatForm
from portal.complaints.from_chat import file_from_conversation
from portal.complaints.models import ComplaintCategory
from portal.complaints.uploads import settings
from portal.domain import DomainError
from portal.extensions import db
from portal.timeutil import utcnow

bp = Blueprint("complaints_from_chat", __name__, url_prefix="/staff/complaints/from-chat")


@bp.post("/<int:conversation_id>")
@role_required(Role.AGENT, Role.ADMIN)
def file(conversation_id: int):
    """File it and open it; a refusal (not this agent's conversation, already a complaint,
    nothing from the borrower yet) goes back to the conversation with the reason."""
    form = FromChatForm()
    back = redirect(
        url_for("support_staff.conversation", conversation_id=conversation_id), code=303
    )
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        flash(_("Choose what the complaint is about."), "danger")
        return back
    try:
        complaint = file_from_conversation(
            conversation_id,
            agent=current_user,
            category=ComplaintCategory(form.category.data),
            now=utcnow(),
            settings=settings(),
            ip_address=request.remote_addr,
        )
    except DomainError as error:
        db.session.rollback()
        if error.status_code == 404:
            raise
        flash(str(error.message), "danger")
        return back
    db.session.commit()
    flash(_("Complaint %(reference)s opened.", reference=complaint.reference), "success")
    return redirect(url_for("complaints_staff.complaint", complaint_id=complaint.id), code=303)
