"""Conversations and messages, without HTTP: numbering, idempotent posting, replay, closing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.support.assignment import pick_from_queue
from portal.support.conversations import (
    ConversationClosed,
    ConversationNotFound,
    InvalidMessage,
    NotYourConversation,
    RatingRefused,
    close_conversation,
    latest_unrated_of,
    mark_read,
    messages_after,
    post_message,
    rate_conversation,
    start_conversation,
)
from portal.support.models import (
    MAX_BODY_LENGTH,
    ConversationMessage,
    ConversationStatus,
    Sender,
    Topic,
)
from tests.support.conftest import MORNING, user


def _start(inbox, topic=Topic.REPAYMENT):
    conversation = start_conversation(user(inbox.borrower), topic, now=MORNING)
    db.session.commit()
    return conversation


def _post(account, conversation, body="hello", client_id=None, **kwargs):
    posted = post_message(
        conversation.id, author=user(account), body=body, client_id=client_id, now=MORNING, **kwargs
    )
    db.session.commit()
    return posted


def _assigned(inbox):
    conversation = _start(inbox)
    pick_from_queue(conversation.id, agent=user(inbox.agent), now=MORNING, capacity=4)
    db.session.commit()
    return conversation


def test_a_borrower_has_one_open_conversation(app_ctx, inbox):
    """Starting again while one is open returns the open one, whatever the topic."""
    first = _start(inbox)
    again = _start(inbox, Topic.DISPUTE)
    assert again.id == first.id
    assert first.status is ConversationStatus.QUEUED
    assert first.locale == "en"


def test_messages_are_numbered_one_after_another(app_ctx, inbox):
    """Each message takes the next number in its conversation."""
    conversation = _start(inbox)
    seqs = [_post(inbox.borrower, conversation, f"m{i}", f"c{i}").message.seq for i in range(3)]
    assert seqs == [1, 2, 3]
    assert conversation.last_seq == 3


def test_a_resent_client_id_is_stored_once(app_ctx, inbox):
    """The same client id from the same sender returns the stored message, not a new one."""
    conversation = _start(inbox)
    first = _post(inbox.borrower, conversation, "pay tomorrow?", "abc-1")
    again = _post(inbox.borrower, conversation, "pay tomorrow?", "abc-1")
    assert (first.duplicate, again.duplicate) == (False, True)
    assert again.message.id == first.message.id
    count = db.session.scalar(select(func.count(ConversationMessage.id)))
    assert count == 1


def test_a_borrower_cannot_post_in_another_borrowers_conversation(app_ctx, inbox):
    """Someone else's conversation is "not found", and nothing is stored."""
    conversation = _start(inbox)
    with pytest.raises(ConversationNotFound):
        _post(inbox.other_borrower, conversation)
    db.session.rollback()
    assert db.session.scalar(select(func.count(ConversationMessage.id))) == 0


def test_an_agent_writes_only_where_assigned_and_an_admin_only_reads(app_ctx, inbox):
    """Another agent gets "not found"; an admin sees it but may not write."""
    conversation = _assigned(inbox)
    with pytest.raises(ConversationNotFound):
        _post(inbox.other_agent, conversation)
    db.session.rollback()
    with pytest.raises(NotYourConversation):
        _post(inbox.admin, conversation)
    db.session.rollback()
    assert _post(inbox.agent, conversation, "How can I help?").message.sender is Sender.AGENT


@pytest.mark.parametrize("body", ["", "   ", "x" * (MAX_BODY_LENGTH + 1)])
def test_empty_or_oversized_messages_are_refused(app_ctx, inbox, body):
    """A message must have text and at most the limit."""
    conversation = _start(inbox)
    with pytest.raises(InvalidMessage):
        _post(inbox.borrower, conversation, body)


@pytest.mark.parametrize("client_id", ["", "x" * 65, "<script>", "a b"])
def test_malformed_client_ids_are_refused(app_ctx, inbox, client_id):
    """A client id is short and plain (a UUID fits)."""
    conversation = _start(inbox)
    with pytest.raises(InvalidMessage):
        _post(inbox.borrower, conversation, client_id=client_id)


def test_replay_after_a_sequence_skips_what_the_client_has(app_ctx, inbox):
    """Messages after n are exactly those numbered above n, in order."""
    conversation = _assigned(inbox)  # seq 1: "assigned"
    for i in range(4):
        _post(inbox.borrower, conversation, f"m{i}", f"c{i}")
    replay = messages_after(conversation, 3, include_private=False)
    assert [m.seq for m in replay] == [4, 5]
    assert [m.body for m in replay] == ["m2", "m3"]


def test_private_notes_are_for_staff_only(app_ctx, inbox):
    """A note is replayed to staff and never to the borrower; a borrower cannot write one."""
    conversation = _assigned(inbox)
    _post(inbox.agent, conversation, "promised before, broke it", "n1", private_note=True)
    borrower_note = _post(inbox.borrower, conversation, "hi", "b1", private_note=True)
    assert borrower_note.message.is_private_note is False
    staff = [m.body for m in messages_after(conversation, 0, include_private=True)]
    borrower = [m.body for m in messages_after(conversation, 0, include_private=False)]
    assert "promised before, broke it" in staff
    assert "promised before, broke it" not in borrower


def test_a_closed_conversation_takes_no_message_and_keeps_its_transcript(app_ctx, inbox):
    """After closing, posting is refused, a resend still finds its message, and stored
    messages cannot be edited."""
    conversation = _assigned(inbox)
    stored = _post(inbox.borrower, conversation, "thanks", "t1").message
    close_conversation(conversation.id, by=user(inbox.agent), now=MORNING + timedelta(minutes=5))
    db.session.commit()
    assert conversation.status is ConversationStatus.CLOSED
    with pytest.raises(ConversationClosed):
        _post(inbox.borrower, conversation, "one more", "t2")
    db.session.rollback()
    assert _post(inbox.borrower, conversation, "thanks", "t1").duplicate
    stored.body = "edited"
    with pytest.raises(ValueError, match="immutable"):
        db.session.flush()
    db.session.rollback()
    assert messages_after(conversation, 0, include_private=True)[-1].body == "closed"


def test_read_marks_only_move_forward(app_ctx, inbox):
    """A read mark never goes back, nor past the last message."""
    conversation = _assigned(inbox)
    _post(inbox.agent, conversation, "hello", "a1")
    mark_read(conversation.id, reader=user(inbox.borrower), seq=99)
    assert conversation.borrower_read_seq == 2
    mark_read(conversation.id, reader=user(inbox.borrower), seq=1)
    assert conversation.borrower_read_seq == 2


def test_a_closed_conversation_is_rated_once(app_ctx, inbox):
    """1-5 with a comment, only after closing, only once, only by its borrower."""
    conversation = _assigned(inbox)
    with pytest.raises(RatingRefused):
        rate_conversation(
            conversation.id, borrower=user(inbox.borrower), rating=5, comment="", now=MORNING
        )
    close_conversation(conversation.id, by=user(inbox.borrower), now=MORNING)
    assert latest_unrated_of(inbox.borrower.id).id == conversation.id
    with pytest.raises(RatingRefused):
        rate_conversation(
            conversation.id, borrower=user(inbox.borrower), rating=6, comment="", now=MORNING
        )
    with pytest.raises(ConversationNotFound):
        rate_conversation(
            conversation.id, borrower=user(inbox.other_borrower), rating=4, comment="", now=MORNING
        )
    rate_conversation(
        conversation.id, borrower=user(inbox.borrower), rating=4, comment=" quick ", now=MORNING
    )
    assert (conversation.rating, conversation.rating_comment) == (4, "quick")
    assert latest_unrated_of(inbox.borrower.id) is None
    with pytest.raises(RatingRefused):
        rate_conversation(
            conversation.id, borrower=user(inbox.borrower), rating=1, comment="", now=MORNING
        )
