"""Payment issues for staff: the open ones with what each means, and their resolution.

Endpoints (blueprint ``payments_issues``, under /staff/payments/issues): ``issues`` (staff);
``resolve`` (POST, admins). A refused resolution shows the page again with its error (422).
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.models import Role
from portal.auth.permissions import role_required, staff_required
from portal.extensions import db
from portal.payments.issues.forms import ResolveForm
from portal.payments.issues.services import (
    IssueResolutionRefused,
    open_issues,
    recently_resolved,
    resolve_issue,
)
from portal.payments.labels import issue_guidance, issue_kind_label
from portal.timeutil import utcnow

bp = Blueprint("payments_issues", __name__, url_prefix="/staff/payments/issues")


def _page(form: ResolveForm | None = None, failed_id: int | None = None, status: int = 200):
    return (
        render_template(
            "staff/payments/issues.html",
            issues=open_issues(),
            resolved=recently_resolved(),
            form=form or ResolveForm(formdata=None),
            failed_id=failed_id,
            is_admin=current_user.role is Role.ADMIN,
            kind_label=issue_kind_label,
            guidance=issue_guidance,
        ),
        status,
    )


@bp.get("")
@staff_required
def issues():
    return _page()


@bp.post("/<int:issue_id>/resolve")
@role_required(Role.ADMIN)
def resolve(issue_id: int):
    form = ResolveForm()
    if not form.validate_on_submit():
        return _page(form, issue_id, 422)
    try:
        resolve_issue(
            issue_id,
            note=form.note.data,
            actor_id=current_user.id,
            now=utcnow(),
            ip_address=request.remote_addr,
        )
    except IssueResolutionRefused as error:
        db.session.rollback()
        form.note.errors = [str(error.message)]
        return _page(form, issue_id, error.status_code)
    db.session.commit()
    flash(_("Issue marked resolved."), "success")
    return redirect(url_for(".issues"), code=303)
