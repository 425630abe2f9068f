"""Contact rules: which rulebook the lender follows, and each rulebook's thresholds (admins only).

Each save of thresholds is a new rulebook version; the guard always uses the newest, and every
contact decision records the version it used.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.extensions import db
from portal.messaging.labels import RULEBOOK_NAMES, THIRD_PARTY_MODES
from portal.messaging.rulebooks import (
    BUILT_IN,
    InvalidRulebook,
    current_rulebook,
    lender_rulebook_code,
    settings_to_json,
)
from portal.messaging.staff import forms  # a module import: forms imports our labels
from portal.messaging.staff.queries import rulebook_history
from portal.messaging.staff.services import (
    UnknownRulebook,
    save_rulebook_thresholds,
    set_lender_rulebook,
)
from portal.timeutil import utcnow

bp = Blueprint("messaging_staff_rulebooks", __name__, url_prefix="/staff/messaging")


def _threshold_form(code: str) -> forms.RulebookForm:
    data = forms.RulebookForm.initial_data(settings_to_json(current_rulebook(code)))
    return forms.RulebookForm(formdata=None, data=data, prefix=code)


def _page(
    lender_form: forms.LenderRulebookForm | None = None,
    bound: tuple[str, forms.RulebookForm] | None = None,
    errors: list[str] | None = None,
):
    """The page with fresh forms, except ``bound``: (code, the form that failed, as submitted)."""
    failed_code = bound[0] if bound is not None else None
    code_forms = {
        code: bound[1] if bound is not None and code == failed_code else _threshold_form(code)
        for code in BUILT_IN
    }
    if lender_form is None:
        lender_form = forms.LenderRulebookForm(formdata=None, data={"code": lender_rulebook_code()})
    return render_template(
        "staff/messaging/rulebooks.html",
        lender_form=lender_form,
        lender_code=lender_rulebook_code(),
        forms=code_forms,
        versions={code: current_rulebook(code).version for code in BUILT_IN},
        history=rulebook_history(),
        names=RULEBOOK_NAMES,
        third_party_modes=THIRD_PARTY_MODES,
        errors=errors or [],
        failed_code=failed_code,
    )


@bp.get("/rulebooks")
@role_required(Role.ADMIN)
def rulebooks():
    return _page()


@bp.post("/rulebooks/lender")
@role_required(Role.ADMIN)
def lender_rulebook_save():
    form = forms.LenderRulebookForm()
    if not form.validate_on_submit():
        return _page(lender_form=form), 422
    changed = set_lender_rulebook(
        form.code.data, actor_id=current_user.id, now=utcnow(), ip_address=request.remote_addr
    )
    db.session.commit()
    if changed:
        flash(_("The lender now follows the %(code)s rulebook.", code=form.code.data), "success")
    return redirect(url_for(".rulebooks"), code=303)


@bp.post("/rulebooks/<code>")
@role_required(Role.ADMIN)
def rulebook_save(code: str):
    """Save thresholds as a new version; errors are shown with the submitted values kept."""
    if code not in BUILT_IN:
        raise UnknownRulebook()
    form = forms.RulebookForm(prefix=code)
    errors: list[str] = []
    if form.validate_on_submit():
        try:
            saved = save_rulebook_thresholds(
                code,
                form.changes(current_rulebook(code).daily_caps),
                actor_id=current_user.id,
                now=utcnow(),
                ip_address=request.remote_addr,
            )
        except InvalidRulebook as error:
            db.session.rollback()
            errors = [str(error.message)]
        else:
            db.session.commit()
            flash(
                _("Saved %(code)s rules as version %(version)s.", code=code, version=saved.version),
                "success",
            )
            return redirect(url_for(".rulebooks", _anchor=f"rulebook-{code}"), code=303)
    return _page(bound=(code, form), errors=errors), 422
