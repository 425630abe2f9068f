"""Telling connected clients what changed, after it was committed.

Rooms in the ``/support`` namespace:

- ``conversation:<id>``: the borrower's side of a conversation (no private notes, no delivery
  details); ``conversation:<id>:staff``: the agent's and admins' side.
- ``queue``: agents and admins, told when the queue changes.
- ``user:<id>``: one person's connections, told e.g. that a conversation was assigned to them.

With REDIS_URL set, Flask-SocketIO carries these emits to clients of every server process.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from flask import current_app, url_for
from flask_babel import force_locale
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from portal.auth.models import User
from portal.auth.sessions import ENDED_SESSIONS_KEY
from portal.extensions import db, socketio
from portal.support.assignment import queue_places
from portal.support.conversations import messages_after
from portal.support.models import Conversation, ConversationMessage, Sender
from portal.support.payloads import conversation_payload, message_payloads
from portal.timeutil import utcnow

NAMESPACE = "/support"
QUEUE_ROOM = "queue"


def conversation_room(conversation_id: int) -> str:
    return f"conversation:{conversation_id}"


def staff_room(conversation_id: int) -> str:
    return f"conversation:{conversation_id}:staff"


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def _staff_locale(conversation: Conversation) -> str:
    agent = db.session.get(User, conversation.agent_id) if conversation.agent_id else None
    return (agent.locale if agent else None) or current_app.config["DEFAULT_LOCALE"]


def broadcast_messages(conversation: Conversation, messages: Sequence[ConversationMessage]) -> None:
    """Each new message to both sides (a private note to staff only)."""
    now = utcnow()
    with force_locale(conversation.locale):
        public = message_payloads(
            [m for m in messages if not m.is_private_note], for_staff=False, now=now
        )
    with force_locale(_staff_locale(conversation)):
        staff = message_payloads(messages, for_staff=True, now=now)
    for payload in public:
        socketio.emit(
            "chat_message", payload, to=conversation_room(conversation.id), namespace=NAMESPACE
        )
    for payload in staff:
        socketio.emit("chat_message", payload, to=staff_room(conversation.id), namespace=NAMESPACE)


def broadcast_state(conversations: Iterable[Conversation]) -> None:
    """Each conversation's state, and its latest message if that is the portal's own note
    ("assigned", "closed"... written by the change being told), to both sides; the waiting
    ones with their queue place; then the queue's new length to agents, and a note to each
    agent given a conversation."""
    places = queue_places(now=utcnow())
    for conversation in conversations:
        latest = messages_after(conversation, conversation.last_seq - 1, include_private=True)
        broadcast_messages(conversation, [m for m in latest if m.sender is Sender.SYSTEM])
        place = places.get(conversation.id)
        with force_locale(conversation.locale):
            public = conversation_payload(conversation, place, for_staff=False)
        socketio.emit(
            "conversation", public, to=conversation_room(conversation.id), namespace=NAMESPACE
        )
        with force_locale(_staff_locale(conversation)):
            staff = conversation_payload(conversation, place, for_staff=True)
        socketio.emit("conversation", staff, to=staff_room(conversation.id), namespace=NAMESPACE)
        if conversation.agent_id and conversation.is_open:
            socketio.emit(
                "assigned",
                {
                    "conversation_id": conversation.id,
                    "url": url_for("support_staff.conversation", conversation_id=conversation.id),
                },
                to=user_room(conversation.agent_id),
                namespace=NAMESPACE,
            )
    broadcast_queue(places)


def broadcast_queue(places: dict | None = None) -> None:
    """The waiting borrowers their new places; agents the queue's length."""
    places = queue_places(now=utcnow()) if places is None else places
    if places:
        waiting = db.session.scalars(
            select(Conversation).where(Conversation.id.in_(list(places)))
        ).all()
        for conversation in waiting:
            with force_locale(conversation.locale):
                payload = conversation_payload(
                    conversation, places[conversation.id], for_staff=False
                )
            socketio.emit(
                "conversation", payload, to=conversation_room(conversation.id), namespace=NAMESPACE
            )
    socketio.emit("queue", {"waiting": len(places)}, to=QUEUE_ROOM, namespace=NAMESPACE)


@event.listens_for(Session, "after_commit")
def _drop_connections_of_ended_sessions(session: Session) -> None:
    """Once sessions are ended (committed), close those users' open chat connections here, and
    tell every process (through the message queue) so pages elsewhere stop too; a connection
    another process holds is also refused at its next event."""
    for user_id in session.info.pop(ENDED_SESSIONS_KEY, ()):
        room_name = user_room(user_id)
        socketio.emit("session_ended", {}, to=room_name, namespace=NAMESPACE)
        local = [sid for sid, _ in socketio.server.manager.get_participants(NAMESPACE, room_name)]
        for sid in local:
            socketio.server.disconnect(sid, namespace=NAMESPACE)


@event.listens_for(Session, "after_rollback")
def _forget_ended_sessions_on_rollback(session: Session) -> None:
    session.info.pop(ENDED_SESSIONS_KEY, None)
