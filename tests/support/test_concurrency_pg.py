"""Concurrent posts to one conversation on PostgreSQL: the conversation's row lock numbers them
one after another, and a resend racing its original is stored once."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.support.conversations import post_message, start_conversation
from portal.support.models import ConversationMessage, Topic
from tests.support.conftest import MORNING, user

pytestmark = pytest.mark.postgres


def _post_together(app, author_id: int, conversation_id: int, client_ids: list[str]) -> list:
    """Post from several threads released at once; the first holds its lock a moment so the
    others must wait on it. Returns (seq, duplicate) per thread, in start order."""
    barrier = threading.Barrier(len(client_ids))
    results: list = [None] * len(client_ids)

    def work(index: int, client_id: str) -> None:
        with app.app_context():
            from portal.auth.models import User

            author = db.session.get_one(User, author_id)
            barrier.wait()
            posted = post_message(
                conversation_id,
                author=author,
                body=f"message {index}",
                client_id=client_id,
                now=MORNING,
            )
            time.sleep(0.2)  # keep the transaction, and the row lock, open
            db.session.commit()
            results[index] = (posted.message.seq, posted.duplicate)
            db.session.remove()

    threads = [threading.Thread(target=work, args=(i, c)) for i, c in enumerate(client_ids)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def _start(app, inbox) -> int:
    with app.app_context():
        conversation = start_conversation(user(inbox.borrower), Topic.OTHER, now=MORNING)
        db.session.commit()
        return conversation.id


def test_concurrent_posts_get_distinct_consecutive_numbers(app, inbox):
    """Four posts at once: numbers 1-4, each once."""
    conversation_id = _start(app, inbox)
    results = _post_together(app, inbox.borrower.id, conversation_id, ["a", "b", "c", "d"])
    assert sorted(seq for seq, _ in results) == [1, 2, 3, 4]
    assert not any(duplicate for _, duplicate in results)


def test_a_resend_racing_its_original_is_stored_once(app, inbox):
    """The same client id from two connections at once: one row, the same number for both."""
    conversation_id = _start(app, inbox)
    results = _post_together(app, inbox.borrower.id, conversation_id, ["same", "same"])
    assert {seq for seq, _ in results} == {1}
    assert sorted(duplicate for _, duplicate in results) == [False, True]
    with app.app_context():
        assert db.session.scalar(select(func.count(ConversationMessage.id))) == 1
