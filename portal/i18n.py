"""Language and time zone for each request, and the language switcher.

Locale order: the signed-in user's setting, then ``?lang=`` (remembered in the session), then
the browser's Accept-Language, then DEFAULT_LOCALE.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    has_request_context,
    redirect,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.forms import EmptyForm
from portal.config import SUPPORTED_LOCALES
from portal.extensions import db

bp = Blueprint("i18n", __name__)

LANGUAGE_NAMES = {"zh_CN": "简体中文", "en": "English"}


def select_locale() -> str:
    if not has_request_context():  # CLI commands, workers: the configured default
        return current_app.config["DEFAULT_LOCALE"]
    if current_user.is_authenticated and current_user.locale in SUPPORTED_LOCALES:
        return current_user.locale
    if session.get("lang") in SUPPORTED_LOCALES:
        return session["lang"]
    best = request.accept_languages.best_match(["zh_CN", "zh", "en"])
    if best is not None:
        return "zh_CN" if best.startswith("zh") else "en"
    return current_app.config["DEFAULT_LOCALE"]


def select_timezone() -> str:
    if has_request_context() and current_user.is_authenticated:
        return current_user.timezone
    return current_app.config["DEFAULT_TIMEZONE"]


def remember_lang_parameter() -> None:
    """Honour ``?lang=`` on any page; an unknown code is refused with a message."""
    requested = request.args.get("lang")
    if requested is None:
        return
    if requested in SUPPORTED_LOCALES:
        session["lang"] = requested
    else:
        flash(_("That language is not available. Choose 简体中文 or English."), "warning")


@bp.post("/language")
def switch_language():
    """Switch language; for a signed-in user it becomes their saved setting."""
    form = EmptyForm()
    requested = request.form.get("lang", "")
    back = (
        request.referrer
        if request.referrer and request.referrer.startswith(request.host_url)
        else url_for("loans.dashboard")
    )
    if not form.validate_on_submit():
        flash(_("Your form expired. Please try again."), "warning")
        return redirect(back)
    if requested not in SUPPORTED_LOCALES:
        flash(_("That language is not available. Choose 简体中文 or English."), "warning")
        return redirect(back, code=303)
    session["lang"] = requested
    if current_user.is_authenticated:
        current_user.locale = requested
        db.session.commit()
    return redirect(back, code=303)
