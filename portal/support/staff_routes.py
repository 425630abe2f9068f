"""The agent console (blueprint ``support_staff``, under /staff/support): agents and admins.

``console``: the queue, my conversations (an admin: every open one), my presence.
``conversation``: one conversation (live over Socket.IO) beside the customer panel, with
transfer and close. An agent opens only conversations assigned to them; an admin opens any and
writes nothing in it, but may transfer or close it. The POSTs call one service each, commit
once, broadcast, and redirect.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from portal.auth.models import Role, User
from portal.auth.permissions import role_required
from portal.complaints.forms import FromChatForm
from portal.complaints.from_chat import complaint_of_conversation
from portal.domain import DomainError
from portal.extensions import db
from portal.support import broadcast
from portal.support.assignment import (
    assign_waiting,
    assignable_agents,
    open_loads,
    pick_from_queue,
    queue_places,
    set_presence,
    transfer,
)
from portal.support.conversations import close_conversation, readable_conversation
from portal.support.forms import PresenceForm, TransferForm
from portal.support.labels import PANEL_LABELS, STATUS_LABELS, TOPIC_LABELS, channel_label
from portal.support.models import Conversation, ConversationStatus, Presence, SupportAgent
from portal.support.panel import customer_panel
from portal.support.payloads import conversation_payload
from portal.timeutil import utcnow

bp = Blueprint("support_staff", __name__, url_prefix="/staff/support")
CONSOLE_ROLES = (Role.AGENT, Role.ADMIN)


def _capacity() -> int:
    return current_app.config["SUPPORT_AGENT_CAPACITY"]


def _rows(query) -> list[tuple[Conversation, str]]:
    return list(db.session.execute(query.join(User, User.id == Conversation.borrower_id)).all())


@bp.get("/")
@role_required(*CONSOLE_ROLES)
def console():
    now = utcnow()
    base = select(Conversation, User.name)
    queue = _rows(
        base.where(Conversation.status == ConversationStatus.QUEUED).order_by(
            Conversation.queued_at, Conversation.id
        )
    )
    mine_filter = (
        Conversation.status == ConversationStatus.ASSIGNED
        if current_user.role is Role.ADMIN
        else (Conversation.status == ConversationStatus.ASSIGNED)
        & (Conversation.agent_id == current_user.id)
    )
    mine = _rows(base.where(mine_filter).order_by(Conversation.assigned_at, Conversation.id))
    presence_form = None
    if current_user.role is Role.AGENT:
        profile = db.session.get(SupportAgent, current_user.id)  # none yet: offline
        presence_form = PresenceForm(
            presence=(profile.presence if profile else Presence.OFFLINE).value
        )
    return render_template(
        "staff/support/console.html",
        queue=queue,
        mine=mine,
        load=open_loads([current_user.id]).get(current_user.id, 0),
        capacity=_capacity(),
        presence_form=presence_form,
        pick_form=FlaskForm(),
        topic_labels=TOPIC_LABELS,
        status_labels=STATUS_LABELS,
        client={"namespace": broadcast.NAMESPACE, "role": "console"},
        now=now,
    )


@bp.get("/<int:conversation_id>")
@role_required(*CONSOLE_ROLES)
def conversation(conversation_id: int):
    now = utcnow()
    conversation = readable_conversation(current_user, conversation_id)
    form = TransferForm()
    form.to.choices = _transfer_choices(conversation)
    place = queue_places(now=now).get(conversation.id)
    return render_template(
        "staff/support/conversation.html",
        conversation=conversation,
        panel=customer_panel(conversation.borrower_id, now=now),
        panel_labels=PANEL_LABELS,
        transfer_form=form,
        action_form=FlaskForm(),
        complaint_form=FromChatForm(),
        complaint=complaint_of_conversation(conversation.id),
        can_write=current_user.role is Role.AGENT and conversation.is_open,
        # Links put in messages are absolute: a reply may leave by text.
        public_url=current_app.config["PUBLIC_URL"].rstrip("/"),
        topic=TOPIC_LABELS[conversation.topic],
        status=STATUS_LABELS[conversation.status],
        reply_via=channel_label(conversation.reply_via),
        client={
            "namespace": broadcast.NAMESPACE,
            "role": "staff",
            "public_url": current_app.config["PUBLIC_URL"].rstrip("/"),
            "conversation": conversation_payload(conversation, place, for_staff=True),
            "strings": {
                "you": _("You"),
                "sending": _("Sending…"),
                "typing": _("The borrower is typing…"),
                "read": _("Read"),
                "offline": _("Connection lost. Reconnecting…"),
                "failed": _("Not sent: %(reason)s"),
                "private_note": _("Private note"),
            },
        },
    )


def _transfer_choices(conversation: Conversation) -> list[tuple[str, str]]:
    agents = [a for a in assignable_agents() if a.id != conversation.agent_id]
    return [("queue", _("Back to the queue")), *[(str(a.id), a.name) for a in agents]]


def _refused(error: DomainError, conversation_id: int | None = None):
    db.session.rollback()
    if error.status_code == 404:
        raise error
    flash(str(error.message), "danger")
    if conversation_id is None:
        return redirect(url_for("support_staff.console"), 303)
    return redirect(url_for("support_staff.conversation", conversation_id=conversation_id), 303)


@bp.post("/<int:conversation_id>/pick")
@role_required(Role.AGENT)
def pick(conversation_id: int):
    try:
        conversation = pick_from_queue(
            conversation_id, agent=current_user, now=utcnow(), capacity=_capacity()
        )
    except DomainError as error:
        return _refused(error)
    db.session.commit()
    broadcast.broadcast_state([conversation])
    return redirect(url_for("support_staff.conversation", conversation_id=conversation_id), 303)


@bp.post("/<int:conversation_id>/transfer")
@role_required(*CONSOLE_ROLES)
def transfer_conversation(conversation_id: int):
    conversation = readable_conversation(current_user, conversation_id)
    form = TransferForm()
    form.to.choices = _transfer_choices(conversation)
    if not form.validate_on_submit():
        flash(_("Choose an agent or the queue."), "danger")
        return redirect(url_for("support_staff.conversation", conversation_id=conversation_id), 303)
    to_agent_id = None if form.to.data == "queue" else int(form.to.data)
    now = utcnow()
    try:
        conversation = transfer(
            conversation_id, by=current_user, to_agent_id=to_agent_id, now=now, capacity=_capacity()
        )
        assigned = assign_waiting(now=now, capacity=_capacity())
    except DomainError as error:
        return _refused(error, conversation_id)
    db.session.commit()
    broadcast.broadcast_state([conversation, *[c for c in assigned if c is not conversation]])
    flash(_("The conversation was transferred."), "success")
    return redirect(url_for("support_staff.console"), 303)


@bp.post("/<int:conversation_id>/close")
@role_required(*CONSOLE_ROLES)
def close(conversation_id: int):
    now = utcnow()
    try:
        conversation = close_conversation(conversation_id, by=current_user, now=now)
        assigned = assign_waiting(now=now, capacity=_capacity())
    except DomainError as error:
        return _refused(error, conversation_id)
    db.session.commit()
    broadcast.broadcast_state([conversation, *assigned])
    flash(_("The conversation is closed."), "success")
    return redirect(url_for("support_staff.console"), 303)


@bp.post("/presence")
@role_required(Role.AGENT)
def presence():
    form = PresenceForm()
    if not form.validate_on_submit():
        flash(_("Choose online, away or offline."), "danger")
        return redirect(url_for("support_staff.console"), 303)
    now = utcnow()
    set_presence(current_user, Presence(form.presence.data), now=now)
    assigned = assign_waiting(now=now, capacity=_capacity())
    db.session.commit()
    broadcast.broadcast_state(assigned)
    return redirect(url_for("support_staff.console"), 303)
