"""Assignment: the online agent with the fewest open conversations who speaks the language,
within capacity; picking, transfer, the queue's places and estimated wait."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.auth.models import Role
from portal.extensions import db
from portal.support.assignment import (
    DEFAULT_HANDLE_TIME,
    AgentAtCapacity,
    AssignmentRefused,
    NotAnAgent,
    agent_profile,
    assign_waiting,
    pick_from_queue,
    queue_places,
    set_presence,
    transfer,
)
from portal.support.conversations import (
    ConversationNotFound,
    close_conversation,
    start_conversation,
)
from portal.support.models import ConversationStatus, Presence, Topic
from tests.support.conftest import MORNING, user


@pytest.fixture
def borrowers(app, make_user):
    """Five English-speaking borrowers and one Chinese-speaking one."""
    english = [make_user(Role.BORROWER, locale="en") for _ in range(5)]
    return english, make_user(Role.BORROWER, locale="zh_CN")


def _queue(accounts, start=MORNING):
    conversations = []
    for index, account in enumerate(accounts):
        conversations.append(
            start_conversation(user(account), Topic.OTHER, now=start + timedelta(minutes=index))
        )
    db.session.commit()
    return conversations


def _online(account, languages="en"):
    agent_profile(user(account), now=MORNING).languages = languages
    set_presence(user(account), Presence.ONLINE, now=MORNING)
    db.session.commit()


def test_nobody_online_leaves_the_queue_as_it_is(app_ctx, inbox, borrowers):
    """Offline and away agents take nothing."""
    _queue(borrowers[0][:2])
    set_presence(user(inbox.agent), Presence.AWAY, now=MORNING)
    assert assign_waiting(now=MORNING, capacity=4) == []


def test_the_longest_waiting_go_to_the_least_loaded_agent_within_capacity(
    app_ctx, inbox, borrowers
):
    """Two agents with capacity 2 take the four oldest of five, two each; the fifth waits."""
    conversations = _queue(borrowers[0])
    _online(inbox.agent)
    _online(inbox.other_agent)
    assigned = assign_waiting(now=MORNING, capacity=2)
    db.session.commit()
    assert [c.id for c in assigned] == [c.id for c in conversations[:4]]
    agents = [c.agent_id for c in conversations[:4]]
    assert sorted(agents) == sorted([inbox.agent.id, inbox.other_agent.id] * 2)
    assert agents[0] != agents[1]  # the second went to the one with fewer
    assert conversations[4].status is ConversationStatus.QUEUED
    close_conversation(conversations[0].id, by=user(inbox.admin), now=MORNING)
    freed = assign_waiting(now=MORNING, capacity=2)
    assert [c.id for c in freed] == [conversations[4].id]
    assert conversations[4].agent_id == conversations[0].agent_id


def test_an_agent_takes_only_languages_they_speak(app_ctx, inbox, borrowers):
    """The Chinese-speaking borrower waits for a Chinese-speaking agent; later ones go on."""
    english, chinese = borrowers
    chinese_conversation, english_conversation = _queue([chinese, english[0]])
    _online(inbox.agent, "en")
    assert [c.id for c in assign_waiting(now=MORNING, capacity=4)] == [english_conversation.id]
    assert chinese_conversation.status is ConversationStatus.QUEUED
    _online(inbox.other_agent, "zh_CN,en")
    assign_waiting(now=MORNING, capacity=4)
    assert chinese_conversation.agent_id == inbox.other_agent.id


def test_only_agents_set_presence(app_ctx, inbox):
    """Admins read the inbox; they are not assigned conversations."""
    with pytest.raises(NotAnAgent):
        set_presence(user(inbox.admin), Presence.ONLINE, now=MORNING)


def test_picking_from_the_queue_respects_capacity_and_first_come(app_ctx, inbox, borrowers):
    """An agent takes a queued conversation; the same one cannot be taken twice; at capacity
    an agent takes no more."""
    first, second = _queue(borrowers[0][:2])
    pick_from_queue(first.id, agent=user(inbox.agent), now=MORNING, capacity=1)
    assert first.agent_id == inbox.agent.id
    with pytest.raises(AssignmentRefused):
        pick_from_queue(first.id, agent=user(inbox.other_agent), now=MORNING, capacity=1)
    with pytest.raises(AgentAtCapacity):
        pick_from_queue(second.id, agent=user(inbox.agent), now=MORNING, capacity=1)
    with pytest.raises(NotAnAgent):
        pick_from_queue(second.id, agent=user(inbox.admin), now=MORNING, capacity=1)


def test_transfer_to_another_agent_or_back_to_the_queue_in_its_place(app_ctx, inbox, borrowers):
    """Sent back, it waits ahead of later arrivals; only its agent or an admin may move it."""
    first, second = _queue(borrowers[0][:2], start=MORNING)
    pick_from_queue(first.id, agent=user(inbox.agent), now=MORNING, capacity=4)
    with pytest.raises(ConversationNotFound):
        transfer(first.id, by=user(inbox.other_agent), to_agent_id=None, now=MORNING, capacity=4)
    transfer(
        first.id, by=user(inbox.agent), to_agent_id=inbox.other_agent.id, now=MORNING, capacity=4
    )
    assert first.agent_id == inbox.other_agent.id
    with pytest.raises(NotAnAgent):
        transfer(
            first.id, by=user(inbox.admin), to_agent_id=inbox.admin.id, now=MORNING, capacity=4
        )
    transfer(first.id, by=user(inbox.admin), to_agent_id=None, now=MORNING, capacity=4)
    assert (first.status, first.agent_id) == (ConversationStatus.QUEUED, None)
    places = queue_places(now=MORNING)
    assert (places[first.id].position, places[second.id].position) == (1, 2)


def test_queue_places_estimate_the_wait_from_recent_conversations(app_ctx, inbox, borrowers):
    """With no history a turn counts five minutes; then the average handle time, shared
    among the online agents."""
    conversations = _queue(borrowers[0][:3])
    places = queue_places(now=MORNING)
    assert [places[c.id].position for c in conversations] == [1, 2, 3]
    assert places[conversations[1].id].estimated_wait == DEFAULT_HANDLE_TIME * 2
    pick_from_queue(conversations[0].id, agent=user(inbox.agent), now=MORNING, capacity=4)
    close_conversation(
        conversations[0].id, by=user(inbox.agent), now=MORNING + timedelta(minutes=12)
    )
    _online(inbox.agent)
    _online(inbox.other_agent)
    places = queue_places(now=MORNING)
    assert places[conversations[1].id].position == 1
    assert places[conversations[2].id].estimated_wait == timedelta(minutes=12)
