"""A complaint opened from a support conversation: the clock starts at the borrower's first
message, the transcript is the chat as it was at filing, one complaint per conversation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.complaints.from_chat import (
    AlreadyAComplaint,
    NothingFromTheBorrower,
    file_from_conversation,
    transcript,
)
from portal.complaints.models import ComplaintCategory, ComplaintChannel
from portal.complaints.services import complaint_for_borrower
from portal.extensions import db
from portal.messaging.models import ContactHold
from portal.support.assignment import pick_from_queue
from portal.support.conversations import ConversationNotFound, post_message, start_conversation
from portal.support.models import Topic
from tests.collections.conftest import NOW
from tests.complaints.conftest import SETTINGS, user

pytestmark = pytest.mark.usefixtures("app_ctx")
FIRST = NOW - timedelta(days=3)


def _chat(world, *, borrower_says: bool = True) -> int:
    borrower, agent = user(world.borrower_id), user(world.agent_id)
    conversation = start_conversation(borrower, Topic.DISPUTE, now=FIRST)
    if borrower_says:
        for minutes, body in ((0, "Your collector called my mother."), (5, "Twice, at night.")):
            post_message(
                conversation.id,
                author=borrower,
                body=body,
                client_id=f"c{minutes}",
                now=FIRST + timedelta(minutes=minutes),
            )
    pick_from_queue(conversation.id, agent=agent, now=FIRST, capacity=4)
    post_message(
        conversation.id,
        author=agent,
        body="Noted; checking the call log.",
        client_id="n1",
        now=FIRST + timedelta(minutes=6),
        private_note=True,
    )
    db.session.commit()
    return conversation.id


def _file(world, conversation_id: int, by: int | None = None):
    return file_from_conversation(
        conversation_id,
        agent=user(by or world.agent_id),
        category=ComplaintCategory.COLLECTION_CONDUCT,
        now=NOW,
        settings=SETTINGS,
    )


def test_the_clock_starts_at_the_borrowers_first_message_and_the_chat_is_the_evidence(world):
    conversation_id = _chat(world)
    complaint = _file(world, conversation_id)
    db.session.commit()

    assert complaint.channel is ComplaintChannel.CHAT
    assert complaint.received_at == FIRST
    assert complaint.description == "Your collector called my mother.\nTwice, at night."
    assert complaint.reference.startswith("CMP-")
    # A conduct complaint holds collection, as one filed in the portal does.
    assert db.session.get(ContactHold, complaint.hold_id).closed_at is None
    # The borrower finds it under their own complaints.
    assert complaint_for_borrower(world.borrower_id, complaint.reference).id == complaint.id

    staff_view = [m.body for m in transcript(complaint, include_private=True)]
    borrower_view = [m.body for m in transcript(complaint, include_private=False)]
    assert "Noted; checking the call log." in staff_view
    assert "Noted; checking the call log." not in borrower_view
    assert "Twice, at night." in borrower_view


def test_later_messages_are_not_part_of_the_filed_transcript(world):
    conversation_id = _chat(world)
    complaint = _file(world, conversation_id)
    db.session.commit()
    post_message(
        conversation_id,
        author=user(world.borrower_id),
        body="Thank you.",
        client_id="late",
        now=NOW + timedelta(minutes=1),
    )
    db.session.commit()
    bodies = [m.body for m in transcript(complaint, include_private=True)]
    assert "Thank you." not in bodies
    assert bodies[-1] == "complaint_opened"  # the conversation says so, to both sides


def test_one_complaint_per_conversation(world):
    conversation_id = _chat(world)
    first = _file(world, conversation_id)
    db.session.commit()
    with pytest.raises(AlreadyAComplaint) as refused:
        _file(world, conversation_id)
    assert first.reference in refused.value.message


def test_only_the_conversations_agent_or_an_admin_may_file_it(world, make_user):
    from portal.auth.models import Role

    conversation_id = _chat(world)
    other_agent = make_user(Role.AGENT).id
    with pytest.raises(ConversationNotFound):
        _file(world, conversation_id, by=other_agent)
    db.session.rollback()
    assert _file(world, conversation_id, by=world.admin_id).received_at == FIRST


def test_a_conversation_without_a_word_from_the_borrower_is_refused(world):
    conversation_id = _chat(world, borrower_says=False)
    with pytest.raises(NothingFromTheBorrower):
        _file(world, conversation_id)
