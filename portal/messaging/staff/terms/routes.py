"""Prohibited wording: the built-in lists and the terms admins added, per language.

All staff may read the lists; only admins add terms. A term added here is refused in every
template saved afterwards and in every message rendered afterwards (``content_check``).
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.models import Role
from portal.auth.permissions import role_required, staff_required
from portal.config import SUPPORTED_LOCALES
from portal.extensions import db
from portal.messaging.content_check import BUILT_IN_TERMS, CATEGORIES
from portal.messaging.labels import CATEGORY_LABELS
from portal.messaging.staff import forms  # a module import: forms imports our labels
from portal.messaging.staff.queries import added_terms
from portal.messaging.staff.services import DuplicateTerm, add_prohibited_term
from portal.timeutil import utcnow

bp = Blueprint("messaging_staff_terms", __name__, url_prefix="/staff/messaging")


def _page(form: forms.TermForm):
    return render_template(
        "staff/messaging/terms.html",
        form=form,
        locales=SUPPORTED_LOCALES,
        categories=CATEGORIES,
        category_labels=CATEGORY_LABELS,
        built_in=BUILT_IN_TERMS,
        added=added_terms(),
        can_edit=current_user.role is Role.ADMIN,
    )


@bp.get("/terms")
@staff_required
def terms():
    return _page(forms.TermForm(formdata=None))


@bp.post("/terms")
@role_required(Role.ADMIN)
def term_add():
    """Add a term; a duplicate or an empty term is shown next to the field, input kept."""
    form = forms.TermForm()
    if form.validate_on_submit():
        try:
            row = add_prohibited_term(
                locale=form.locale.data,
                category=form.category.data,
                term=form.term.data,
                actor_id=current_user.id,
                now=utcnow(),
                ip_address=request.remote_addr,
            )
        except DuplicateTerm as error:
            db.session.rollback()
            form.term.errors = [*form.term.errors, str(error.message)]
        else:
            db.session.commit()
            flash(_("“%(term)s” is now prohibited.", term=row.term), "success")
            return redirect(url_for(".terms"), code=303)
    return _page(form), 422
