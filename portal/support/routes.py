"""The borrower's chat page (blueprint ``support``, under /support), borrowers only.

``chat`` shows the topic choice, or the open conversation (its messages travel over Socket.IO,
see ``events.py``), and the rating form for the last closed one. The POSTs start a chat, end
it, and rate it; each parses its form, calls one service, commits once, broadcasts, redirects.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.domain import DomainError
from portal.extensions import db
from portal.support import broadcast
from portal.support.assignment import assign_waiting, queue_places
from portal.support.conversations import (
    close_conversation,
    latest_unrated_of,
    open_conversation_of,
    rate_conversation,
    start_conversation,
)
from portal.support.forms import RatingForm, StartChatForm
from portal.support.labels import topic_label
from portal.support.models import Topic
from portal.support.payloads import conversation_payload
from portal.timeutil import utcnow

bp = Blueprint("support", __name__, url_prefix="/support")


def _page(
    start_form: StartChatForm | None = None, rating_form: RatingForm | None = None, status=200
):
    conversation = open_conversation_of(current_user.id)
    unrated = None if conversation else latest_unrated_of(current_user.id)
    client = None
    if conversation is not None:
        place = queue_places(now=utcnow()).get(conversation.id)
        client = {
            "namespace": broadcast.NAMESPACE,
            "role": "borrower",
            "public_url": current_app.config["PUBLIC_URL"].rstrip("/"),
            "conversation": conversation_payload(conversation, place, for_staff=False),
            "strings": _client_strings(),
        }
    html = render_template(
        "support/chat.html",
        conversation=conversation,
        topic=topic_label(conversation.topic) if conversation else None,
        unrated=unrated,
        start_form=start_form or StartChatForm(),
        rating_form=rating_form or RatingForm(),
        client=client,
    )
    return html, status


def _client_strings() -> dict[str, str]:
    """Words the chat script shows, in the reader's language."""
    return {
        "you": _("You"),
        "sending": _("Sending…"),
        "typing": _("Typing…"),
        "read": _("Read"),
        "offline": _("Connection lost. Reconnecting…"),
        "failed": _("Not sent: %(reason)s"),
        "private_note": _("Private note"),
    }


@bp.get("/chat")
@role_required(Role.BORROWER)
def chat():
    return _page()


@bp.post("/chat")
@role_required(Role.BORROWER)
def start():
    form = StartChatForm()
    if not form.validate_on_submit():
        return _page(start_form=form, status=422)
    now = utcnow()
    conversation = start_conversation(current_user, Topic(form.topic.data), now=now)
    db.session.flush()
    assigned = assign_waiting(now=now, capacity=current_app.config["SUPPORT_AGENT_CAPACITY"])
    db.session.commit()
    broadcast.broadcast_state([conversation, *[c for c in assigned if c is not conversation]])
    return redirect(url_for("support.chat"), 303)


@bp.post("/chat/<int:conversation_id>/close")
@role_required(Role.BORROWER)
def close(conversation_id: int):
    # The CSRF token is checked for every POST (CSRFProtect): nothing else to parse.
    now = utcnow()
    conversation = close_conversation(conversation_id, by=current_user, now=now)
    assigned = assign_waiting(now=now, capacity=current_app.config["SUPPORT_AGENT_CAPACITY"])
    db.session.commit()
    broadcast.broadcast_state([conversation, *assigned])
    return redirect(url_for("support.chat"), 303)


@bp.post("/chat/<int:conversation_id>/rating")
@role_required(Role.BORROWER)
def rate(conversation_id: int):
    form = RatingForm()
    if not form.validate_on_submit():
        return _page(rating_form=form, status=422)
    try:
        rate_conversation(
            conversation_id,
            borrower=current_user,
            rating=int(form.rating.data),
            comment=form.comment.data or "",
            now=utcnow(),
        )
    except DomainError as error:
        db.session.rollback()
        if error.status_code == 404:
            raise
        form.rating.errors = [str(error.message)]
        return _page(rating_form=form, status=422)
    db.session.commit()
    flash(_("Thank you for your rating."), "success")
    return redirect(url_for("support.chat"), 303)
