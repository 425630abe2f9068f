"""The borrower's notice centre: the list, one notice, and the unread count in the navigation."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import get_locale
from flask_login import current_user

from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.converters import id_or_none
from portal.extensions import db
from portal.loans.services import loan_of_borrower, loan_position
from portal.messaging.notice_text import paragraphs, preview
from portal.messaging.notices.services import notices_of, open_notice, unread_count
from portal.messaging.renderings import text_in
from portal.timeutil import local_today, utcnow

bp = Blueprint("messaging_notices", __name__, url_prefix="/notices")
bp.add_app_template_filter(paragraphs, "notice_paragraphs")
bp.add_app_template_filter(preview, "notice_preview")


def _reader_locale() -> str:
    return str(get_locale())


@bp.app_context_processor
def unread_notices():
    if current_user.is_authenticated and current_user.role is Role.BORROWER:
        return {"unread_notices": unread_count(current_user.id)}
    return {"unread_notices": 0}


@bp.get("/")
@role_required(Role.BORROWER)
def index():
    before = request.args.get("before", type=id_or_none)
    notices = notices_of(current_user.id, before_id=before)
    return render_template(
        "borrower/notices.html",
        notices=[(notice, text_in(notice, _reader_locale())) for notice in notices],
        next_before=notices[-1].id if len(notices) == 50 else None,
    )


@bp.get("/<int:notice_id>")
@role_required(Role.BORROWER)
def show(notice_id: int):
    now = utcnow()
    notice = open_notice(current_user.id, notice_id, now=now)
    if notice.read_at == now:  # first opening: keep the read mark (a commit expires the rows)
        db.session.commit()
    position = None
    if notice.loan_id is not None:
        today = local_today(current_user.timezone, utcnow())
        position = loan_position(loan_of_borrower(current_user.id, notice.loan_id), today)
    return render_template(
        "borrower/notice.html",
        notice=notice,
        text=text_in(notice, _reader_locale()),
        position=position,
    )
