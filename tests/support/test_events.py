"""The ``/support`` Socket.IO namespace through Flask-SocketIO's test client: who may connect and
join, sending with acknowledgements, replay on resume, typing and read receipts."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from portal.auth.models import Role, User
from portal.extensions import db
from portal.support import events
from portal.support.assignment import pick_from_queue
from portal.support.broadcast import NAMESPACE
from portal.support.conversations import start_conversation
from portal.support.models import Topic
from portal.timeutil import utcnow
from tests.conftest import csrf_token, login
from tests.support.conftest import call, received, user


def _conversation(app, inbox, *, assigned=True) -> int:
    with app.app_context():
        conversation = start_conversation(user(inbox.borrower), Topic.REPAYMENT, now=utcnow())
        if assigned:
            pick_from_queue(conversation.id, agent=user(inbox.agent), now=utcnow(), capacity=4)
        db.session.commit()
        return conversation.id


def test_an_unauthenticated_connection_is_refused(app, socket_for):
    """No session, no connection."""
    socket = socket_for(None)
    assert not socket.is_connected(NAMESPACE)


def test_a_collector_has_no_inbox(app, make_user, socket_for):
    """Collectors are refused at connect."""
    socket = socket_for(make_user(Role.COLLECTOR))
    assert not socket.is_connected(NAMESPACE)


def test_a_borrower_joins_their_conversation_and_gets_its_messages(app, inbox, socket_for):
    """Join answers with the state and every message so far."""
    conversation_id = _conversation(app, inbox)
    socket = socket_for(inbox.borrower)
    assert socket.is_connected(NAMESPACE)
    answer = call(socket, "join", {"conversation_id": conversation_id, "after_seq": 0})
    assert answer["ok"]
    assert answer["conversation"]["status"] == "assigned"
    assert [m["seq"] for m in answer["messages"]] == [1]  # "an agent has joined"


def test_joining_someone_elses_conversation_is_refused(app, inbox, socket_for):
    """Another borrower, or an agent it is not assigned to, gets "not found" and no room."""
    conversation_id = _conversation(app, inbox)
    for account in (inbox.other_borrower, inbox.other_agent):
        socket = socket_for(account)
        answer = call(socket, "join", {"conversation_id": conversation_id, "after_seq": 0})
        assert answer["ok"] is False
        assert "messages" not in answer
    borrower = socket_for(inbox.borrower)
    call(borrower, "send", {"conversation_id": conversation_id, "client_id": "x1", "body": "hi"})
    assert received(socket, "chat_message") == []


@pytest.mark.parametrize("forged", [None, "1", -1, 0, 2**31, 10**30, True, 1.5, [1], {"id": 1}])
def test_forged_conversation_ids_are_refused(app, inbox, socket_for, forged):
    """Anything but a positive id in range is a bad request, never a server error."""
    socket = socket_for(inbox.borrower)
    for event in ("join", "resume", "send", "typing", "read"):
        answer = call(socket, event, {"conversation_id": forged, "client_id": "c", "body": "b"})
        assert answer["ok"] is False, event
    assert call(socket, "join", "not a dict")["ok"] is False


def test_a_message_is_stored_acknowledged_and_delivered_to_the_agent(app, inbox, socket_for):
    """The ack carries the stored number; the agent's side receives the same message."""
    conversation_id = _conversation(app, inbox)
    agent = socket_for(inbox.agent)
    call(agent, "join", {"conversation_id": conversation_id, "after_seq": 0})
    borrower = socket_for(inbox.borrower)
    call(borrower, "join", {"conversation_id": conversation_id, "after_seq": 0})
    body = "<script>alert(1)</script> can I pay later?"
    answer = call(
        borrower, "send", {"conversation_id": conversation_id, "client_id": "m-1", "body": body}
    )
    assert answer == {"ok": True, "seq": 2, "duplicate": False}
    delivered = received(agent, "chat_message")
    assert [(m["seq"], m["body"], m["sender"]) for m in delivered] == [(2, body, "borrower")]


def test_a_replayed_client_id_is_not_stored_or_broadcast_twice(app, inbox, socket_for):
    """A resend after a lost ack gets the first number back and nobody sees it twice."""
    conversation_id = _conversation(app, inbox)
    agent = socket_for(inbox.agent)
    call(agent, "join", {"conversation_id": conversation_id, "after_seq": 0})
    borrower = socket_for(inbox.borrower)
    message = {"conversation_id": conversation_id, "client_id": "same-id", "body": "hello"}
    first = call(borrower, "send", message)
    again = call(borrower, "send", message)
    assert (first["seq"], again["seq"], again["duplicate"]) == (2, 2, True)
    assert len(received(agent, "chat_message")) == 1
    history = call(borrower, "resume", {"conversation_id": conversation_id, "after_seq": 0})
    assert [m["body"] for m in history["messages"]].count("hello") == 1


def test_resume_after_a_sequence_returns_only_what_was_missed(app, inbox, socket_for):
    """A client that saw up to 2 gets 3 and 4 on reconnection, in order, nothing else."""
    conversation_id = _conversation(app, inbox)
    borrower = socket_for(inbox.borrower)
    agent = socket_for(inbox.agent)
    call(borrower, "send", {"conversation_id": conversation_id, "client_id": "b1", "body": "one"})
    borrower.disconnect(NAMESPACE)
    for i, body in enumerate(("two", "three")):
        call(
            agent, "send", {"conversation_id": conversation_id, "client_id": f"a{i}", "body": body}
        )
    again = socket_for(inbox.borrower)
    answer = call(again, "resume", {"conversation_id": conversation_id, "after_seq": 2})
    assert [(m["seq"], m["body"]) for m in answer["messages"]] == [(3, "two"), (4, "three")]


def test_an_admin_reads_but_does_not_write(app, inbox, socket_for):
    """Admins may join any conversation; sending is refused and stores nothing."""
    conversation_id = _conversation(app, inbox)
    admin = socket_for(inbox.admin)
    assert call(admin, "join", {"conversation_id": conversation_id, "after_seq": 0})["ok"]
    answer = call(
        admin, "send", {"conversation_id": conversation_id, "client_id": "z", "body": "x"}
    )
    assert answer["ok"] is False
    assert (
        call(admin, "resume", {"conversation_id": conversation_id, "after_seq": 1})["messages"]
        == []
    )


def test_private_notes_reach_staff_and_never_the_borrower(app, inbox, socket_for):
    """A note goes to the staff room only."""
    conversation_id = _conversation(app, inbox)
    borrower = socket_for(inbox.borrower)
    call(borrower, "join", {"conversation_id": conversation_id, "after_seq": 0})
    admin = socket_for(inbox.admin)
    call(admin, "join", {"conversation_id": conversation_id, "after_seq": 0})
    received(borrower, "chat_message")
    agent = socket_for(inbox.agent)
    note = {
        "conversation_id": conversation_id,
        "client_id": "n",
        "body": "note",
        "private_note": True,
    }
    assert call(agent, "send", note)["ok"]
    assert received(borrower, "chat_message") == []
    assert [m["private_note"] for m in received(admin, "chat_message")] == [True]


def test_typing_and_read_receipts_reach_the_other_side(app, inbox, socket_for):
    """The borrower sees the agent typing and that the agent read up to a number."""
    conversation_id = _conversation(app, inbox)
    borrower = socket_for(inbox.borrower)
    call(borrower, "join", {"conversation_id": conversation_id, "after_seq": 0})
    agent = socket_for(inbox.agent)
    call(agent, "join", {"conversation_id": conversation_id, "after_seq": 0})
    received(borrower, "chat_message")
    assert call(agent, "typing", {"conversation_id": conversation_id})["ok"]
    assert call(agent, "read", {"conversation_id": conversation_id, "seq": 1})["ok"]
    packets = borrower.get_received(NAMESPACE)
    assert {
        "name": "typing",
        "args": [{"conversation_id": conversation_id, "sender": "agent"}],
        "namespace": NAMESPACE,
    } in packets
    assert any(p["name"] == "read" and p["args"][0]["seq"] == 1 for p in packets)
    assert received(agent, "typing") == []  # not echoed to the typist's own side


def test_a_revoked_session_is_dropped_at_its_next_event(app, inbox, socket_for):
    """Sessions ended where this process did not see it (another process, straight in SQL):
    the connection is refused and disconnected at its next event."""
    conversation_id = _conversation(app, inbox)
    socket = socket_for(inbox.borrower)
    assert call(socket, "join", {"conversation_id": conversation_id, "after_seq": 0})["ok"]
    with app.app_context():
        db.session.execute(
            update(User)
            .where(User.id == user(inbox.borrower).id)
            .values(session_generation=User.session_generation + 1)
        )
        db.session.commit()
    answer = call(
        socket, "send", {"conversation_id": conversation_id, "client_id": "r", "body": "x"}
    )
    assert answer == {"ok": False, "error": "unauthorized"}
    assert not socket.is_connected(NAMESPACE)


def test_a_revoked_session_is_dropped_as_soon_as_the_revocation_commits(app, inbox, socket_for):
    """ "Sign out everywhere" closes the open chat connection itself, without a next event."""
    conversation_id = _conversation(app, inbox)
    socket = socket_for(inbox.borrower)
    assert call(socket, "join", {"conversation_id": conversation_id, "after_seq": 0})["ok"]
    other_device = app.test_client()
    login(other_device, inbox.borrower)
    response = other_device.post(
        "/sign-out-everywhere", data={"csrf_token": csrf_token(other_device, "/")}
    )
    assert response.status_code in (302, 303)
    assert not socket.is_connected(NAMESPACE)


def test_flooding_is_refused_after_the_limit(app, inbox, socket_for, monkeypatch):
    """Past the per-person limit, sends are refused until the window passes."""
    monkeypatch.setattr(events, "SEND_LIMIT", 3)
    monkeypatch.setattr(events, "_recent_sends", type(events._recent_sends)(events.deque))
    conversation_id = _conversation(app, inbox)
    socket = socket_for(inbox.borrower)
    answers = [
        call(
            socket, "send", {"conversation_id": conversation_id, "client_id": f"f{i}", "body": "x"}
        )
        for i in range(5)
    ]
    assert [a["ok"] for a in answers] == [True, True, True, False, False]
    assert answers[-1]["error"] == "rate_limited"
