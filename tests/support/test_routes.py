"""The borrower's chat page and the agent console over HTTP: starting, taking, the customer
panel, transfer, closing and rating, and who may see what."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from portal.extensions import db
from portal.support.assignment import set_presence
from portal.support.conversations import messages_after, open_conversation_of, post_message
from portal.support.models import Conversation, ConversationStatus, Presence
from portal.timeutil import local_today, utcnow
from tests.conftest import csrf_token, login, page_text
from tests.support.conftest import user


def _start_chat(client, topic="repayment"):
    token = csrf_token(client, "/support/chat")
    return client.post("/support/chat", data={"topic": topic, "csrf_token": token})


def _conversation(app, borrower_id) -> Conversation:
    with app.app_context():
        conversation = open_conversation_of(borrower_id)
        db.session.expunge_all()
        return conversation


def test_a_borrower_chooses_a_topic_and_waits_in_the_queue(app, client, inbox):
    """The topic form starts a conversation; the page then shows the chat, not the form."""
    login(client, inbox.borrower)
    page = client.get("/support/chat")
    assert page.status_code == 200
    assert "Dispute or complaint" in page_text(page)
    response = _start_chat(client)
    assert response.status_code == 303
    conversation = _conversation(app, inbox.borrower.id)
    assert conversation.status is ConversationStatus.QUEUED
    html = client.get("/support/chat").get_data(as_text=True)
    assert 'data-testid="support-thread"' in html
    assert "socket.io.min.js" in html
    assert 'name="topic"' not in html


def test_a_missing_or_unknown_topic_is_refused(app, client, inbox):
    """422 with the form again, and no conversation."""
    login(client, inbox.borrower)
    assert _start_chat(client, topic="<b>").status_code == 422
    assert _conversation(app, inbox.borrower.id) is None


def test_an_online_agent_gets_the_new_chat_at_once(app, client, inbox):
    """Starting a chat while an agent is online assigns it to them."""
    with app.app_context():
        set_presence(user(inbox.agent), Presence.ONLINE, now=utcnow())
        db.session.commit()
    login(client, inbox.borrower)
    _start_chat(client)
    conversation = _conversation(app, inbox.borrower.id)
    assert (conversation.status, conversation.agent_id) == (
        ConversationStatus.ASSIGNED,
        inbox.agent.id,
    )


def test_the_agent_takes_a_chat_and_sees_the_customer_panel(
    app, client, inbox, make_user, make_loan
):
    """The console lists the waiting borrower; taking it opens the conversation beside the
    borrower's loans, what is overdue and for how many days."""
    today = local_today("Asia/Shanghai", utcnow())
    make_loan(inbox.borrower.id, disbursed_on=today - timedelta(days=45))
    login(client, inbox.borrower)
    _start_chat(client)
    conversation_id = _conversation(app, inbox.borrower.id).id
    agent = app.test_client()
    login(agent, inbox.agent)
    console = agent.get("/staff/support/")
    assert "Bo Rower" in page_text(console)
    token = csrf_token(agent, "/staff/support/")
    response = agent.post(f"/staff/support/{conversation_id}/pick", data={"csrf_token": token})
    assert response.status_code == 303
    page = agent.get(f"/staff/support/{conversation_id}")
    text = page_text(page)
    assert page.status_code == 200
    assert "LN-T00001" in text
    assert re.search(r"overdue, 1[3-6] days past due", text)  # due a month after, ~45 days ago
    assert "Nothing overdue" not in text
    assert 'data-testid="support-composer"' in page.get_data(as_text=True)


def test_agents_open_only_their_conversations_and_admins_read_any(app, client, inbox):
    """Another agent gets 404; an admin sees the page without a composer."""
    login(client, inbox.borrower)
    _start_chat(client)
    conversation_id = _conversation(app, inbox.borrower.id).id
    agent = app.test_client()
    login(agent, inbox.agent)
    agent.post(
        f"/staff/support/{conversation_id}/pick",
        data={"csrf_token": csrf_token(agent, "/staff/support/")},
    )
    other = app.test_client()
    login(other, inbox.other_agent)
    assert other.get(f"/staff/support/{conversation_id}").status_code == 404
    token = csrf_token(other, "/staff/support/")
    assert (
        other.post(
            f"/staff/support/{conversation_id}/close", data={"csrf_token": token}
        ).status_code
        == 404
    )
    admin = app.test_client()
    login(admin, inbox.admin)
    page = admin.get(f"/staff/support/{conversation_id}")
    assert page.status_code == 200
    assert 'data-testid="support-composer"' not in page.get_data(as_text=True)


def test_transfer_back_to_the_queue_then_close_and_rate(app, client, inbox):
    """The agent sends it back, takes it again, closes it; the borrower rates it once."""
    login(client, inbox.borrower)
    _start_chat(client)
    conversation_id = _conversation(app, inbox.borrower.id).id
    agent = app.test_client()
    login(agent, inbox.agent)
    token = csrf_token(agent, "/staff/support/")
    agent.post(f"/staff/support/{conversation_id}/pick", data={"csrf_token": token})
    response = agent.post(
        f"/staff/support/{conversation_id}/transfer", data={"csrf_token": token, "to": "queue"}
    )
    assert response.status_code == 303
    assert _conversation(app, inbox.borrower.id).status is ConversationStatus.QUEUED
    agent.post(f"/staff/support/{conversation_id}/pick", data={"csrf_token": token})
    assert (
        agent.post(
            f"/staff/support/{conversation_id}/close", data={"csrf_token": token}
        ).status_code
        == 303
    )
    page = client.get("/support/chat")
    assert 'data-testid="support-rating"' in page.get_data(as_text=True)
    token = csrf_token(client, "/support/chat")
    rated = client.post(
        f"/support/chat/{conversation_id}/rating",
        data={"csrf_token": token, "rating": "5", "comment": "<i>great</i>"},
    )
    assert rated.status_code == 303
    with app.app_context():
        conversation = db.session.get(Conversation, conversation_id)
        assert (conversation.rating, conversation.rating_comment) == (5, "<i>great</i>")
    again = client.post(
        f"/support/chat/{conversation_id}/rating", data={"csrf_token": token, "rating": "1"}
    )
    assert again.status_code == 422


def test_a_borrower_cannot_close_or_rate_someone_elses_conversation(app, client, inbox):
    """Other borrowers' conversations are not found."""
    login(client, inbox.borrower)
    _start_chat(client)
    conversation_id = _conversation(app, inbox.borrower.id).id
    other = app.test_client()
    login(other, inbox.other_borrower)
    token = csrf_token(other, "/support/chat")
    assert (
        other.post(f"/support/chat/{conversation_id}/close", data={"csrf_token": token}).status_code
        == 404
    )
    assert (
        other.post(
            f"/support/chat/{conversation_id}/rating", data={"csrf_token": token, "rating": "1"}
        ).status_code
        == 404
    )
    with app.app_context():
        assert db.session.get(Conversation, conversation_id).is_open


def test_the_page_data_block_cannot_close_its_script_tag(app, client, inbox):
    """Text in the page's JSON block is escaped (``</script>`` never appears raw)."""
    login(client, inbox.borrower)
    with app.app_context():
        borrower = user(inbox.borrower)
        borrower.locale = "en"
        db.session.commit()
    _start_chat(client, topic="other")
    html = client.get("/support/chat").get_data(as_text=True)
    block = html.split('id="support-data" type="application/json">', 1)[1].split("</script>", 1)[0]
    assert "<" not in block


def test_contact_us_offers_the_chat_to_borrowers(app, client, inbox, make_loan):
    """Where the dashboard says "contact us", a borrower finds the chat link; staff nav links
    the console."""
    make_loan(inbox.borrower.id, disbursed_on=date.today() - timedelta(days=60))
    login(client, inbox.borrower)
    html = client.get("/").get_data(as_text=True)
    assert 'data-testid="support-chat-link"' in html
    agent = app.test_client()
    login(agent, inbox.agent)
    assert 'data-testid="nav-support"' in agent.get("/staff/").get_data(as_text=True)


def test_queue_and_conversation_pages_use_a_fixed_number_of_queries(app, client, inbox):
    """Statements per console page do not grow with the queue."""
    from tests.conftest import count_queries

    agent = app.test_client()
    login(agent, inbox.agent)
    login(client, inbox.borrower)
    _start_chat(client)
    one = count_queries(app, agent, "/staff/support/")
    other = app.test_client()
    login(other, inbox.other_borrower)
    _start_chat(other)
    assert count_queries(app, agent, "/staff/support/") == one
    with app.app_context():
        assert len(db.session.scalars(select(Conversation)).all()) == 2


def test_a_private_note_shows_in_the_console_and_never_on_the_borrowers_page(app, client, inbox):
    """The console offers the note box and the borrower's page does not; the stored note is
    read back for staff only, and the borrower's page never carries its words."""

    login(client, inbox.borrower)
    _start_chat(client)
    conversation_id = _conversation(app, inbox.borrower.id).id
    agent = app.test_client()
    login(agent, inbox.agent)
    agent.post(
        f"/staff/support/{conversation_id}/pick",
        data={"csrf_token": csrf_token(agent, "/staff/support/")},
    )
    with app.app_context():
        author = user(inbox.agent)
        post_message(
            conversation_id,
            author=author,
            body="Internal: borrower disputes fee",
            client_id="note-1",
            now=utcnow(),
            private_note=True,
        )
        db.session.commit()
        conversation = db.session.get_one(Conversation, conversation_id)
        staff_sees = messages_after(conversation, 0, include_private=True)
        borrower_sees = messages_after(conversation, 0, include_private=False)
        assert [m.body for m in staff_sees if m.is_private_note] == [
            "Internal: borrower disputes fee"
        ]
        assert not [m for m in borrower_sees if m.is_private_note]
    staff_page = agent.get(f"/staff/support/{conversation_id}").get_data(as_text=True)
    assert 'data-testid="support-private"' in staff_page
    borrower_page = client.get("/support/chat").get_data(as_text=True)
    assert 'data-testid="support-private"' not in borrower_page
    assert "borrower disputes fee" not in borrower_page
