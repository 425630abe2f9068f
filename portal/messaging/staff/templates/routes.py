"""Message templates: the grid of every purpose, channel and language; the editor; the preview.

All staff may read templates; only admins save them or use the live preview.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from portal.auth.models import Channel, Role
from portal.auth.permissions import role_required, staff_required
from portal.config import SUPPORTED_LOCALES
from portal.converters import id_or_none
from portal.domain import NotFound
from portal.extensions import db
from portal.messaging.channels import DISPATCHED_CHANNELS
from portal.messaging.default_templates import channels_for
from portal.messaging.labels import CHANNEL_LABELS, KIND_LABELS
from portal.messaging.purposes import PURPOSES, Purpose
from portal.messaging.staff import forms  # a module import: forms imports our labels
from portal.messaging.staff.queries import template_grid, template_history, template_version
from portal.messaging.staff.services import save_template
from portal.messaging.staff.templates.preview import preview_template
from portal.messaging.templates import InvalidTemplate
from portal.timeutil import utcnow

bp = Blueprint("messaging_staff_templates", __name__, url_prefix="/staff/messaging")

INSTALL_COMMAND = "flask --app wsgi messaging install-templates"


class TemplateNotFound(NotFound):
    message = _l("There is no such message template.")


def _key(purpose_code: str, channel: str, locale: str) -> tuple[Purpose, Channel]:
    """The purpose and channel named in a URL; 404 for anything that has no template."""
    channels = {c.value: c for c in DISPATCHED_CHANNELS}
    if purpose_code not in PURPOSES or channel not in channels or locale not in SUPPORTED_LOCALES:
        raise TemplateNotFound()
    return PURPOSES[purpose_code], channels[channel]


@bp.get("/templates")
@staff_required
def templates():
    grid = template_grid()
    return render_template(
        "staff/messaging/templates.html",
        grid=grid,
        purposes=PURPOSES,
        channels=DISPATCHED_CHANNELS,
        locales=SUPPORTED_LOCALES,
        used_channels={code: channels_for(code) for code in PURPOSES},
        channel_labels=CHANNEL_LABELS,
        kind_labels=KIND_LABELS,
        install_command=INSTALL_COMMAND,
    )


def _editor(spec: Purpose, channel: Channel, locale: str, form: forms.TemplateForm, **context):
    history = context.pop("history", None)
    if history is None:
        history = template_history(spec.code, channel, locale)
    return render_template(
        "staff/messaging/template_edit.html",
        spec=spec,
        channel=channel,
        locale=locale,
        form=form,
        history=history,
        latest=history[0] if history else None,
        can_edit=current_user.role is Role.ADMIN,
        channel_labels=CHANNEL_LABELS,
        kind_labels=KIND_LABELS,
        errors=context.pop("errors", []),
        **context,
    )


@bp.get("/templates/<purpose_code>/<channel>/<locale>")
@staff_required
def template_edit(purpose_code: str, channel: str, locale: str):
    """The template's newest text (or ``?version=N``), its variables and its history."""
    spec, chan = _key(purpose_code, channel, locale)
    asked = request.args.get("version", type=id_or_none)
    history = template_history(spec.code, chan, locale)
    number = asked if asked is not None else (history[0].version if history else None)
    shown = template_version(spec.code, chan, locale, number) if number is not None else None
    if asked is not None and shown is None:
        raise TemplateNotFound()
    data = {}
    if shown is not None:
        data = {
            "subject": shown.subject,
            "body_text": shown.body_text,
            "body_html": shown.body_html or "",
        }
    form = forms.TemplateForm(formdata=None, data=data)
    viewing_old = shown is not None and history[0].version != shown.version
    return _editor(spec, chan, locale, form, history=history, shown=shown, viewing_old=viewing_old)


@bp.post("/templates/<purpose_code>/<channel>/<locale>")
@role_required(Role.ADMIN)
def template_save(purpose_code: str, channel: str, locale: str):
    """Save the draft as the next version; on errors show them with the draft kept as typed."""
    spec, chan = _key(purpose_code, channel, locale)
    form = forms.TemplateForm()
    errors: list[str] = []
    if form.validate_on_submit():
        try:
            version = save_template(
                purpose_code=spec.code,
                channel=chan,
                locale=locale,
                subject=form.subject.data if chan is not Channel.SMS else "",
                body_text=form.body_text.data,
                body_html=(form.body_html.data or None) if chan is Channel.EMAIL else None,
                actor_id=current_user.id,
                now=utcnow(),
                ip_address=request.remote_addr,
            )
        except InvalidTemplate as error:
            errors = error.errors
        else:
            db.session.commit()
            flash(_("Saved as version %(version)s.", version=version.version), "success")
            return redirect(
                url_for(
                    ".template_edit", purpose_code=spec.code, channel=chan.value, locale=locale
                ),
                code=303,
            )
    return _editor(spec, chan, locale, form, errors=errors, shown=None, viewing_old=False), 422


@bp.post("/templates/preview")
@role_required(Role.ADMIN)
def template_preview():
    """JSON in (purpose, channel, locale, subject, body_text, body_html; CSRF in X-CSRFToken),
    JSON out: ``{"errors": [...], "subject": ..., "text": ..., "html": ...}``.

    A draft with errors still answers 200 (errors are the point of a preview); a request that
    is not a draft at all (unknown purpose, too long) answers 422 in the same shape.
    """
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        abort(400)
    fields = {key: value for key, value in payload.items() if isinstance(value, str)}
    form = forms.PreviewForm(formdata=MultiDict(fields), meta={"csrf": False})
    if not form.validate():
        problems = [message for messages in form.errors.values() for message in messages]
        return jsonify(errors=[str(p) for p in problems], subject=None, text=None, html=None), 422
    chan = Channel(form.channel.data)
    result = preview_template(
        purpose_code=form.purpose.data,
        channel=chan,
        locale=form.locale.data,
        subject=form.subject.data if chan is not Channel.SMS else "",
        body_text=form.body_text.data or "",
        body_html=(form.body_html.data or None) if chan is Channel.EMAIL else None,
        now=utcnow(),
    )
    return jsonify(result.as_dict())
