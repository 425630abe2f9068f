"""Unsubscribing from a link in an email, without signing in.

``GET /unsubscribe/<token>`` only shows a confirmation page: link scanners and previews fetch
links, and must not unsubscribe anyone. ``POST`` to the same address opts the borrower out of
the channel the signed token names, either from that page's form (CSRF-checked) or as an RFC 8058
one-click request from a mail client (body ``List-Unsubscribe=One-Click``, no CSRF token: the
signed token is the proof). A tampered token is a 400 with a localized page and changes nothing;
unsubscribing again changes nothing and says so. Pages are in the borrower's language unless
the visitor picked one (``?lang=``, the switcher).
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

from flask import Blueprint, render_template, request, session
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from portal.auth.forms import EmptyForm
from portal.auth.models import Channel, User
from portal.config import SUPPORTED_LOCALES
from portal.extensions import csrf, db
from portal.messaging.preferences.services import opted_out, set_channel_preference
from portal.messaging.unsubscribe.services import borrower_of_token
from portal.timeutil import utcnow

bp = Blueprint("messaging_unsubscribe", __name__)

CHANNEL_NOUNS = {
    Channel.EMAIL: _l("emails"),
    Channel.SMS: _l("text messages"),
    Channel.PORTAL: _l("notices in the portal"),
    Channel.PHONE: _l("phone calls"),
}


def _in_language_of(user: User) -> AbstractContextManager:
    # The visitor's explicit choice wins; otherwise the language the borrower's emails are in.
    if session.get("lang") in SUPPORTED_LOCALES or user.locale not in SUPPORTED_LOCALES:
        return nullcontext()
    return force_locale(user.locale)


@bp.get("/unsubscribe/<token>")
def confirm(token: str):
    """Ask before unsubscribing (a GET changes nothing)."""
    user, channel = borrower_of_token(token)
    with _in_language_of(user):
        if opted_out(user.id, channel):
            return render_template(
                "messaging/unsubscribe_done.html", channel=CHANNEL_NOUNS[channel], changed=False
            )
        return render_template(
            "messaging/unsubscribe.html", form=EmptyForm(), channel=CHANNEL_NOUNS[channel]
        )


@bp.post("/unsubscribe/<token>")
@csrf.exempt  # only so that RFC 8058 one-click works; the form below is still checked
def submit(token: str):
    """Opt out of the token's channel; commits. Audited with source email_link / one_click."""
    one_click = request.form.get("List-Unsubscribe") == "One-Click"
    if not one_click:
        csrf.protect()  # raises CSRFError (a 400 page) without a valid token
    user, channel = borrower_of_token(token)
    changed = set_channel_preference(
        user.id,
        channel,
        allowed=False,
        now=utcnow(),
        source="email_one_click" if one_click else "email_link",
        ip_address=request.remote_addr,
    )
    db.session.commit()
    with _in_language_of(user):
        return render_template(
            "messaging/unsubscribe_done.html", channel=CHANNEL_NOUNS[channel], changed=changed
        )
