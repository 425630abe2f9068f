"""The collection strategy page: the version in force as a form, its history, saving a new version.

Endpoints (blueprint ``collections_strategy``, at /staff/collections/strategy): ``index`` (GET:
collectors read it, admins edit it) and ``save`` (POST: admins). Saving never edits a version:
it stores the next one, audited as ``strategy.saved``; the run uses the newest from its next day.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.collections.labels import stage_label
from portal.collections.strategy.forms import StrategyForm, offer_purpose
from portal.collections.strategy.services import (
    InvalidStrategy,
    StrategyChanged,
    current_strategy,
    save_strategy_version,
    strategy_history,
)
from portal.extensions import db
from portal.messaging.labels import CHANNEL_LABELS
from portal.timeutil import utcnow

bp = Blueprint("collections_strategy", __name__, url_prefix="/staff/collections/strategy")


def _page(form: StrategyForm, errors: list[str] | None = None, failed: bool = False):
    strategy = current_strategy()
    return render_template(
        "staff/collections/strategy.html",
        form=form,
        strategy=strategy,
        history=strategy_history(),
        errors=errors or [],
        failed=failed,
        can_edit=current_user.role is Role.ADMIN,
        stage_label=stage_label,
        channel_labels=CHANNEL_LABELS,
    )


@bp.get("")
@role_required(Role.COLLECTOR, Role.ADMIN)
def index():
    """The strategy in force (editable by admins) and its version history."""
    return _page(StrategyForm.of(current_strategy()))


@bp.post("")
@role_required(Role.ADMIN)
def save():
    """Save the form as a new version; problems are listed with the admin's input kept."""
    form = StrategyForm()
    for entry in form.stages:
        offer_purpose(entry.form.purpose, entry.form.purpose.data)
    if not form.validate_on_submit():
        return _page(form, failed=True), 422
    try:
        saved = save_strategy_version(
            form.settings(),
            expected_version=form.expected_version(),
            actor_id=current_user.id,
            now=utcnow(),
            ip_address=request.remote_addr,
        )
    except InvalidStrategy as error:
        db.session.rollback()
        return _page(form, error.errors, failed=True), 422
    except StrategyChanged as error:
        db.session.rollback()
        form.base_version.data = str(current_strategy().version)  # the next save may go ahead
        return _page(form, [str(error.message)], failed=True), 409
    db.session.commit()
    flash(_("Saved the strategy as version %(version)s.", version=saved.version), "success")
    return redirect(url_for(".index"), code=303)
