"""Who answers which conversation: presence, automatic assignment, picking, transfer, the queue.

Automatic assignment gives the longest-waiting conversation to the online agent with the fewest
open conversations who speaks the conversation's language, as long as that agent holds fewer
than SUPPORT_AGENT_CAPACITY; it runs whenever capacity may have changed (a conversation
queued, closed or sent back, an agent coming online). On PostgreSQL the agents' rows are locked
while it decides, so two processes assigning at once cannot both fill an agent's last place.
All functions flush and never commit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.auth.models import Role, User
from portal.config import SUPPORTED_LOCALES
from portal.domain import DomainError
from portal.extensions import db
from portal.support.conversations import (
    ConversationNotFound,
    append_system_message,
    check_can_read,
    locked_conversation,
)
from portal.support.models import Conversation, ConversationStatus, Presence, SupportAgent

# Until enough conversations have closed to measure, a wait is estimated at this per turn.
DEFAULT_HANDLE_TIME = timedelta(minutes=5)
HANDLE_TIME_SAMPLE = 20


class AssignmentRefused(DomainError):
    status_code = 409
    message = _l("This conversation cannot be taken now.")


class AgentAtCapacity(AssignmentRefused):
    message = _l("That agent already has as many conversations as they can hold.")


class NotAnAgent(AssignmentRefused):
    status_code = 422
    message = _l("Choose an active support agent.")


def agent_profile(user: User, *, now: datetime) -> SupportAgent:
    """The agent's inbox standing, created offline on first use; languages default to the
    agent's own locale, or every language the portal speaks if they chose none."""
    profile = db.session.get(SupportAgent, user.id)
    if profile is None:
        profile = SupportAgent(
            user_id=user.id,
            presence=Presence.OFFLINE,
            languages=user.locale or ",".join(SUPPORTED_LOCALES),
            presence_changed_at=now,
        )
        db.session.add(profile)
        db.session.flush()
    return profile


def set_presence(user: User, presence: Presence, *, now: datetime) -> SupportAgent:
    """Set an agent's presence (only agents take conversations; admins read). Flushes."""
    if user.role is not Role.AGENT:
        raise NotAnAgent()
    profile = agent_profile(user, now=now)
    if profile.presence is not presence:
        profile.presence = presence
        profile.presence_changed_at = now
        db.session.flush()
    return profile


def open_loads(agent_ids: list[int] | None = None) -> dict[int, int]:
    """How many assigned (open) conversations each agent holds; one query."""
    query = (
        select(Conversation.agent_id, func.count(Conversation.id))
        .where(Conversation.status == ConversationStatus.ASSIGNED)
        .group_by(Conversation.agent_id)
    )
    if agent_ids is not None:
        query = query.where(Conversation.agent_id.in_(agent_ids))
    return {agent_id: count for agent_id, count in db.session.execute(query) if agent_id}


def _online_agents() -> list[SupportAgent]:
    return list(
        db.session.scalars(
            select(SupportAgent)
            .join(User, User.id == SupportAgent.user_id)
            .where(
                SupportAgent.presence == Presence.ONLINE,
                User.role == Role.AGENT,
                User.is_active_account.is_(True),
            )
            .order_by(SupportAgent.user_id)
            .with_for_update(of=SupportAgent)
        )
    )


def assign_waiting(*, now: datetime, capacity: int) -> list[Conversation]:
    """Assign queued conversations, longest-waiting first, while some online agent speaking
    their language has room. Returns the conversations assigned. Flushes."""
    agents = _online_agents()
    if not agents:
        return []
    loads = open_loads([a.user_id for a in agents])
    queued = db.session.scalars(
        select(Conversation)
        .where(Conversation.status == ConversationStatus.QUEUED)
        .order_by(Conversation.queued_at, Conversation.id)
        .limit(200)
    ).all()
    assigned = []
    for waiting in queued:
        candidates = [
            a
            for a in agents
            if waiting.locale in a.language_list and loads.get(a.user_id, 0) < capacity
        ]
        if not candidates:
            continue
        agent = min(candidates, key=lambda a: (loads.get(a.user_id, 0), a.user_id))
        conversation = locked_conversation(waiting.id)
        if conversation.status is not ConversationStatus.QUEUED:
            continue  # taken meanwhile by someone picking from the queue
        _assign(conversation, agent.user_id, now=now)
        loads[agent.user_id] = loads.get(agent.user_id, 0) + 1
        assigned.append(conversation)
    return assigned


def _assign(conversation: Conversation, agent_id: int, *, now: datetime) -> None:
    conversation.status = ConversationStatus.ASSIGNED
    conversation.agent_id = agent_id
    conversation.assigned_at = now
    conversation.queued_at = None
    append_system_message(conversation, "assigned", now=now)


def pick_from_queue(
    conversation_id: int, *, agent: User, now: datetime, capacity: int
) -> Conversation:
    """An agent takes a queued conversation themselves, within their capacity. Raises
    NotAnAgent, AssignmentRefused (no longer queued), AgentAtCapacity. Flushes."""
    if agent.role is not Role.AGENT:
        raise NotAnAgent()
    conversation = locked_conversation(conversation_id)
    if conversation.status is not ConversationStatus.QUEUED:
        raise AssignmentRefused()
    if open_loads([agent.id]).get(agent.id, 0) >= capacity:
        raise AgentAtCapacity()
    _assign(conversation, agent.id, now=now)
    return conversation


def transfer(
    conversation_id: int,
    *,
    by: User,
    to_agent_id: int | None,
    now: datetime,
    capacity: int,
) -> Conversation:
    """Hand an open conversation to another agent (within their capacity), or back to the
    queue with ``to_agent_id`` None, where it keeps its place by age. The assigned agent or an
    admin. Raises ConversationNotFound, NotAnAgent, AgentAtCapacity. Flushes."""
    conversation = locked_conversation(conversation_id)
    check_can_read(by, conversation)
    if by.role is Role.BORROWER or not conversation.is_open:
        raise ConversationNotFound()
    if to_agent_id is None:
        conversation.status = ConversationStatus.QUEUED
        conversation.agent_id = None
        conversation.assigned_at = None
        conversation.queued_at = conversation.created_at
        append_system_message(conversation, "returned_to_queue", now=now)
        return conversation
    target = db.session.get(User, to_agent_id)
    if target is None or target.role is not Role.AGENT or not target.is_active_account:
        raise NotAnAgent()
    if to_agent_id == conversation.agent_id:
        return conversation
    if open_loads([to_agent_id]).get(to_agent_id, 0) >= capacity:
        raise AgentAtCapacity()
    _assign(conversation, to_agent_id, now=now)
    return conversation


@dataclass(frozen=True)
class QueuePlace:
    position: int  # 1 is next
    estimated_wait: timedelta


def queue_places(*, now: datetime) -> dict[int, QueuePlace]:
    """Every queued conversation's place and estimated wait, by conversation id.

    The wait is a plain estimate: the average time agents recently spent on a conversation,
    times the turns ahead (the place shared among the online agents).
    """
    queued = db.session.scalars(
        select(Conversation.id)
        .where(Conversation.status == ConversationStatus.QUEUED)
        .order_by(Conversation.queued_at, Conversation.id)
    ).all()
    if not queued:
        return {}
    per_turn = _average_handle_time()
    online = (
        db.session.scalar(
            select(func.count())
            .select_from(SupportAgent)
            .where(SupportAgent.presence == Presence.ONLINE)
        )
        or 1
    )
    return {
        conversation_id: QueuePlace(index, per_turn * math.ceil(index / online))
        for index, conversation_id in enumerate(queued, start=1)
    }


def _average_handle_time() -> timedelta:
    rows = db.session.execute(
        select(Conversation.assigned_at, Conversation.closed_at)
        .where(Conversation.closed_at.is_not(None), Conversation.assigned_at.is_not(None))
        .order_by(Conversation.closed_at.desc())
        .limit(HANDLE_TIME_SAMPLE)
    ).all()
    durations = [
        closed - assigned
        for assigned, closed in rows
        if assigned is not None and closed is not None and closed >= assigned
    ]
    if not durations:
        return DEFAULT_HANDLE_TIME
    return sum(durations, timedelta()) / len(durations)


def assignable_agents() -> list[User]:
    """Active support agents, by name: the choices of a transfer."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.role == Role.AGENT, User.is_active_account.is_(True))
            .order_by(User.name, User.id)
        )
    )
