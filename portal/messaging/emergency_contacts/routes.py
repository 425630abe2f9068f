"""The borrower's emergency contacts: /settings/emergency-contacts (list and add) and removal.

Each POST validates its form, calls one service (which audits) and commits once. A refused
contact shows the page again (422) with the error next to its field and the input kept.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.forms import EmptyForm
from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.extensions import db
from portal.messaging.emergency_contacts.forms import EmergencyContactForm
from portal.messaging.emergency_contacts.services import (
    MAX_CONTACTS,
    RELATIONSHIPS,
    EmergencyContactRefused,
    active_contacts,
    add_contact,
    phone_region,
    remove_contact,
)
from portal.timeutil import utcnow

bp = Blueprint("messaging_emergency_contacts", __name__, url_prefix="/settings/emergency-contacts")


def _page(form: EmergencyContactForm):
    return render_template(
        "borrower/emergency_contacts.html",
        form=form,
        contacts=active_contacts(current_user.id),
        relationships=RELATIONSHIPS,
        max_contacts=MAX_CONTACTS,
        remove_form=EmptyForm(formdata=None),
    )


@bp.route("", methods=["GET", "POST"])
@role_required(Role.BORROWER)
def index():
    """The borrower's emergency contacts and the form to add one."""
    form = EmergencyContactForm()
    form.phone_region = phone_region(current_user.locale)
    if not form.validate_on_submit():
        return _page(form), 422 if form.is_submitted() else 200
    try:
        add_contact(
            current_user.id,
            name=form.name.data,
            phone=form.phone.data,
            relationship=form.relationship.data,
            now=utcnow(),
            actor_id=current_user.id,
            ip_address=request.remote_addr,
        )
    except EmergencyContactRefused as refused:
        db.session.rollback()
        field = getattr(form, refused.field or "", None)
        if field is not None:
            field.errors = [*field.errors, str(refused.message)]
        else:
            form.form_errors.append(str(refused.message))
        return _page(form), 422
    db.session.commit()
    flash(_("The emergency contact is saved."), "success")
    return redirect(url_for(".index"), code=303)


@bp.post("/<int:contact_id>/remove")
@role_required(Role.BORROWER)
def remove(contact_id: int):
    """Remove one of the signed-in borrower's contacts (404 for anyone else's)."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    remove_contact(
        current_user.id,
        contact_id,
        now=utcnow(),
        actor_id=current_user.id,
        ip_address=request.remote_addr,
    )
    db.session.commit()
    flash(_("The emergency contact is removed."), "success")
    return redirect(url_for(".index"), code=303)
