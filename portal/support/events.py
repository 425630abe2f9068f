"""Socket.IO handlers of the support inbox (namespace ``/support``).

A connection is authenticated at ``connect`` by the user's signed, revocable session (the same
check as every page: portal/auth/sessions.py) and refused otherwise; every event checks it again,
so a session ended elsewhere ("sign out everywhere", a password change) drops the connection at
its next event. Borrowers, agents and admins connect; collectors have no inbox.

Events (each answers through its acknowledgement, ``{"ok": true, ...}`` or ``{"ok": false,
"error": "..."}``):

- ``join`` / ``resume`` ``{conversation_id, after_seq}``: enter the conversation's room and get
  every message numbered after ``after_seq`` (0: all), so a client that reconnects misses
  nothing and repeats nothing.
- ``send`` ``{conversation_id, client_id, body, private_note}``: store, then broadcast it as
  ``chat_message`` to both sides; the ack
  carries the stored message's ``seq``. A resend with the same ``client_id`` stores nothing new.
- ``typing`` ``{conversation_id}``, ``read`` ``{conversation_id, seq}``: relayed to the other side.
- ``presence`` ``{presence}`` (agents): online, away or offline.

Handlers parse, authorize through the services, commit once, then broadcast.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict, deque
from collections.abc import Callable
from functools import wraps
from threading import Lock

from flask import current_app
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, disconnect, emit, join_room

from portal.auth.models import Role
from portal.domain import DomainError
from portal.extensions import db, socketio
from portal.support import broadcast
from portal.support.assignment import assign_waiting, queue_places, set_presence
from portal.support.broadcast import NAMESPACE, QUEUE_ROOM
from portal.support.conversations import (
    ConversationClosed,
    InvalidMessage,
    mark_read,
    messages_after,
    post_message,
    readable_conversation,
)
from portal.support.models import Presence
from portal.support.payloads import conversation_payload, message_payloads
from portal.timeutil import utcnow

log = logging.getLogger(__name__)
INBOX_ROLES = (Role.BORROWER, Role.AGENT, Role.ADMIN)
MAX_ID = 2**31 - 1
# Flooding: at most this many messages per person in this many seconds (per server process).
SEND_LIMIT, SEND_WINDOW = 20, 30.0

_recent_sends: dict[int, deque[float]] = defaultdict(deque)
_lock = Lock()


class BadRequest(DomainError):
    status_code = 400


def _handler(event: str) -> Callable:
    """Register an event handler that needs a current session and answers errors as an ack."""

    def decorator(function: Callable) -> Callable:
        @wraps(function)
        def wrapped(data=None):
            if not current_user.is_authenticated or current_user.role not in INBOX_ROLES:
                disconnect()
                return {"ok": False, "error": "unauthorized"}
            try:
                return function(data if isinstance(data, dict) else {})
            except DomainError as error:
                db.session.rollback()
                return {"ok": False, "error": str(error.message)}

        return socketio.on(event, namespace=NAMESPACE)(wrapped)

    return decorator


def _id(data: dict, name: str) -> int:
    """A positive integer field, or BadRequest (strings, floats, booleans, huge numbers)."""
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
        raise BadRequest()
    return value


def _seq(data: dict) -> int:
    value = data.get("after_seq", data.get("seq", 0))
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ID:
        raise BadRequest()
    return value


@socketio.on("connect", namespace=NAMESPACE)
def connect(auth=None):
    if not current_user.is_authenticated or current_user.role not in INBOX_ROLES:
        raise ConnectionRefusedError("unauthorized")
    join_room(broadcast.user_room(current_user.id))
    if current_user.role is Role.BORROWER:
        return
    join_room(QUEUE_ROOM)


def _change_presence(presence: Presence) -> dict:
    """Set the agent's presence; coming online takes waiting conversations. Presence is the
    agent's own choice (a page load or a dropped connection does not change it). Commits,
    broadcasts."""
    now = utcnow()
    profile = set_presence(current_user, presence, now=now)
    assigned = []
    if presence is Presence.ONLINE:
        assigned = assign_waiting(now=now, capacity=current_app.config["SUPPORT_AGENT_CAPACITY"])
    db.session.commit()
    if assigned:
        broadcast.broadcast_state(assigned)
    return {"ok": True, "presence": profile.presence.value}


def _join(data: dict) -> dict:
    conversation = readable_conversation(current_user, _id(data, "conversation_id"))
    staff = current_user.role is not Role.BORROWER
    room = broadcast.staff_room if staff else broadcast.conversation_room
    join_room(room(conversation.id))
    now = utcnow()
    messages = messages_after(conversation, _seq(data), include_private=staff)
    place = queue_places(now=now).get(conversation.id)
    return {
        "ok": True,
        "conversation": conversation_payload(conversation, place, for_staff=staff),
        "messages": message_payloads(messages, for_staff=staff, now=now),
    }


@_handler("join")
def join(data: dict) -> dict:
    return _join(data)


@_handler("resume")
def resume(data: dict) -> dict:
    return _join(data)


@_handler("send")
def send(data: dict) -> dict:
    conversation_id = _id(data, "conversation_id")
    body, client_id = data.get("body"), data.get("client_id")
    if not isinstance(body, str) or not isinstance(client_id, str):
        raise InvalidMessage()
    if _flooding(current_user.id):
        return {"ok": False, "error": "rate_limited"}
    posted = post_message(
        conversation_id,
        author=current_user,
        body=body,
        client_id=client_id,
        now=utcnow(),
        private_note=data.get("private_note") is True,
    )
    message, conversation = posted.message, posted.message.conversation
    db.session.commit()
    if not posted.duplicate:
        broadcast.broadcast_messages(conversation, [message])
    return {"ok": True, "seq": message.seq, "duplicate": posted.duplicate}


def _flooding(user_id: int) -> bool:
    now = time.monotonic()
    with _lock:
        sent = _recent_sends[user_id]
        while sent and sent[0] < now - SEND_WINDOW:
            sent.popleft()
        if len(sent) >= SEND_LIMIT:
            return True
        sent.append(now)
    return False


def _other_side_room(conversation_id: int) -> str:
    if current_user.role is Role.BORROWER:
        return broadcast.staff_room(conversation_id)
    return broadcast.conversation_room(conversation_id)


@_handler("typing")
def typing(data: dict) -> dict:
    conversation = readable_conversation(current_user, _id(data, "conversation_id"))
    if not conversation.is_open:
        raise ConversationClosed()
    if current_user.role is not Role.ADMIN:  # admins read; they do not write
        sender = "borrower" if current_user.role is Role.BORROWER else "agent"
        emit(
            "typing",
            {"conversation_id": conversation.id, "sender": sender},
            to=_other_side_room(conversation.id),
        )
    return {"ok": True}


@_handler("read")
def read(data: dict) -> dict:
    conversation = mark_read(_id(data, "conversation_id"), reader=current_user, seq=_seq(data))
    db.session.commit()
    if current_user.role is not Role.ADMIN:
        seq = (
            conversation.borrower_read_seq
            if current_user.role is Role.BORROWER
            else conversation.agent_read_seq
        )
        emit(
            "read",
            {"conversation_id": conversation.id, "seq": seq},
            to=_other_side_room(conversation.id),
        )
    return {"ok": True}


@_handler("presence")
def presence(data: dict) -> dict:
    try:
        wanted = Presence(str(data.get("presence")))
    except ValueError as error:
        raise BadRequest() from error
    return _change_presence(wanted)
