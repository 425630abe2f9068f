"""Admin controls on a case page over how its borrower may be contacted.

Endpoints (blueprint ``collections_contact_rules``, under
/staff/collections/cases/<case_id>/contact), admins only: ``cease``, ``rulebook``,
``hold_open``, ``hold_close``. Each checks the form's CSRF token, authorizes the case, calls one
service in ``portal.messaging.contact_controls``, commits once and goes back to the case page.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.forms import EmptyForm
from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.collections.cases.access import authorized_case
from portal.extensions import db
from portal.messaging import contact_controls
from portal.messaging.models import HoldReason
from portal.timeutil import utcnow

bp = Blueprint(
    "collections_contact_rules",
    __name__,
    url_prefix="/staff/collections/cases/<int:case_id>/contact",
)


def _back(case_id: int):
    return redirect(url_for("collections_cases.case", case_id=case_id) + "#contact-rules", 303)


def _checked() -> None:
    if not EmptyForm().validate_on_submit():
        abort(400)


def _who() -> dict:
    return {"actor_id": current_user.id, "now": utcnow(), "ip_address": request.remote_addr}


@bp.post("/cease")
@role_required(Role.ADMIN)
def cease(case_id: int):
    _checked()
    case = authorized_case(case_id, current_user)
    cease_contact = request.form.get("cease") == "1"
    contact_controls.set_cease_contact(case.borrower_id, cease_contact, **_who())
    db.session.commit()
    flash(
        _("Contact with this borrower is stopped, except required notices.")
        if cease_contact
        else _("Contact with this borrower may resume under the rules."),
        "success",
    )
    return _back(case_id)


@bp.post("/rulebook")
@role_required(Role.ADMIN)
def rulebook(case_id: int):
    _checked()
    case = authorized_case(case_id, current_user)
    contact_controls.set_rulebook_override(
        case.borrower_id, request.form.get("code") or None, **_who()
    )
    db.session.commit()
    flash(_("The borrower's rulebook is saved."), "success")
    return _back(case_id)


@bp.post("/holds")
@role_required(Role.ADMIN)
def hold_open(case_id: int):
    _checked()
    case = authorized_case(case_id, current_user)
    try:
        reason = HoldReason(request.form.get("reason", ""))
    except ValueError:
        abort(400)
    contact_controls.open_hold(case.borrower_id, reason, request.form.get("note", ""), **_who())
    db.session.commit()
    flash(_("Contact is on hold until the hold is closed."), "success")
    return _back(case_id)


@bp.post("/holds/<int:hold_id>/close")
@role_required(Role.ADMIN)
def hold_close(case_id: int, hold_id: int):
    _checked()
    case = authorized_case(case_id, current_user)
    contact_controls.close_hold(case.borrower_id, hold_id, **_who())
    db.session.commit()
    flash(_("The hold is closed."), "success")
    return _back(case_id)
