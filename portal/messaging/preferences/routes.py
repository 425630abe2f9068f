"""The borrower's contact settings: which channels we may use for reminders and collection.

Each changed channel goes through ``set_channel_preference``, which audits it; the guard reads the
result on every contact. Required notices (receipts, plan confirmations, complaint replies) are
sent whatever these say, and the page tells the borrower so.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.models import Channel, Role
from portal.auth.permissions import role_required
from portal.collections.legal.agency_notices import placements_of
from portal.extensions import db
from portal.messaging.preferences.forms import EDITABLE_CHANNELS, ContactPreferencesForm
from portal.messaging.preferences.services import set_channel_preference
from portal.timeutil import utcnow

bp = Blueprint("messaging_preferences", __name__)


def _current_preferences() -> dict[Channel, bool]:
    """The signed-in borrower's choice per editable channel; no row means allowed."""
    profile = current_user.borrower_profile
    saved = {p.channel: p.allowed for p in profile.contact_preferences} if profile else {}
    return {channel: saved.get(channel, True) for channel in EDITABLE_CHANNELS}


@bp.route("/settings/contact", methods=["GET", "POST"])
@role_required(Role.BORROWER)
def index():
    current = _current_preferences()
    form = ContactPreferencesForm(
        data={channel.value: allowed for channel, allowed in current.items()}
    )
    if form.validate_on_submit():
        now = utcnow()
        for channel in EDITABLE_CHANNELS:
            wanted = bool(form[channel.value].data)
            if wanted != current[channel]:
                set_channel_preference(
                    current_user.id,
                    channel,
                    wanted,
                    now=now,
                    source="settings_page",
                    actor_id=current_user.id,
                    ip_address=request.remote_addr,
                )
        db.session.commit()
        flash(_("Your contact preferences are saved."), "success")
        return redirect(url_for(".index"))
    return render_template(
        "borrower/contact_settings.html",
        form=form,
        phone=current_user.borrower_profile.phone if current_user.borrower_profile else None,
        placements=placements_of(current_user.id, current_user.timezone),
    )
