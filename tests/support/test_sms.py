"""Two-way SMS in the inbox: a borrower's text opens or joins their conversation; an agent's
reply goes back by text through the contact-rules guard (deferred at night, blocked after STOP)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from portal.auth.models import Channel
from portal.extensions import db
from portal.messaging.models import ContactDecisionRecord, Message, MessageStatus
from portal.messaging.preferences.services import set_channel_preference
from portal.support.assignment import pick_from_queue
from portal.support.conversations import open_conversation_of, post_message, start_conversation
from portal.support.models import ConversationMessage, SupportChannel, Topic
from portal.support.payloads import message_payloads
from tests.support.conftest import LATE_NIGHT, MORNING, PHONE, call, user

TOKEN = "support-sms-token"
PUBLIC_URL = "https://settle.example"


def _sign(url: str, params: dict[str, str]) -> str:
    """Twilio's signature scheme, written out independently of the code under test."""
    data = url + "".join(name + value for name, value in sorted(params.items()))
    return base64.b64encode(hmac.new(TOKEN.encode(), data.encode(), hashlib.sha1).digest()).decode()


def _text(client, sid: str, body: str, sender: str = PHONE):
    params = {"MessageSid": sid, "From": sender, "Body": body}
    signature = _sign(PUBLIC_URL + "/webhooks/sms/inbound", params)
    return client.post(
        "/webhooks/sms/inbound", data=params, headers={"X-Twilio-Signature": signature}
    )


@pytest.fixture
def hooks(app):
    app.config.update(SMS_AUTH_TOKEN=TOKEN, PUBLIC_URL=PUBLIC_URL)
    return app


def _sms_messages(app) -> list[ConversationMessage]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(ConversationMessage)
                .where(ConversationMessage.channel == SupportChannel.SMS)
                .order_by(ConversationMessage.id)
            )
        )


def test_an_inbound_text_opens_a_conversation_in_the_queue(hooks, client, inbox):
    """A text from the borrower's number is a message on channel sms in a new conversation."""
    assert _text(client, "SM1", "Can I pay on Friday?").status_code == 200
    with hooks.app_context():
        conversation = open_conversation_of(inbox.borrower.id)
        assert conversation is not None
        assert (conversation.opened_via, conversation.reply_via) == (
            SupportChannel.SMS,
            SupportChannel.SMS,
        )
    assert [m.body for m in _sms_messages(hooks)] == ["Can I pay on Friday?"]


def test_a_provider_retry_and_keywords_never_reach_the_inbox(hooks, client, inbox):
    """The same MessageSid twice is one message; STOP opts out and is no message; a number we
    do not know is kept by messaging but opens nothing."""
    _text(client, "SM1", "hello")
    _text(client, "SM1", "hello")
    _text(client, "SM2", "STOP")
    _text(client, "SM3", "who is this?", sender="+8613900000000")
    assert [m.body for m in _sms_messages(hooks)] == ["hello"]


def test_a_text_joins_the_open_chat_and_the_agent_sees_it_live(hooks, client, inbox, socket_for):
    """An open chat conversation takes the text; the assigned agent's socket receives it."""
    with hooks.app_context():
        conversation = start_conversation(user(inbox.borrower), Topic.REPAYMENT, now=MORNING)
        pick_from_queue(conversation.id, agent=user(inbox.agent), now=MORNING, capacity=4)
        db.session.commit()
        conversation_id = conversation.id
    agent = socket_for(inbox.agent)
    call(agent, "join", {"conversation_id": conversation_id, "after_seq": 0})
    agent.get_received("/support")
    _text(client, "SM9", "I sent it by text")
    live = [p["args"][0] for p in agent.get_received("/support") if p["name"] == "chat_message"]
    assert [(m["body"], m["channel"]) for m in live] == [("I sent it by text", "sms")]


def _sms_conversation(app, inbox) -> int:
    with app.app_context():
        conversation = start_conversation(
            user(inbox.borrower), Topic.OTHER, now=MORNING, channel=SupportChannel.SMS
        )
        pick_from_queue(conversation.id, agent=user(inbox.agent), now=MORNING, capacity=4)
        db.session.commit()
        return conversation.id


def _reply(app, inbox, conversation_id: int, now: datetime):
    with app.app_context(), force_locale("en"):
        posted = post_message(
            conversation_id,
            author=user(inbox.agent),
            body="Yes, Friday is fine.",
            client_id="r1",
            now=now,
        )
        db.session.commit()
        outbox = db.session.get_one(Message, posted.message.outbox_message_id)
        payload = message_payloads([posted.message], for_staff=True, now=now)[0]
        borrower_view = message_payloads([posted.message], for_staff=False, now=now)[0]
        return posted.message, outbox, payload, borrower_view


def test_a_reply_at_23_00_in_the_borrowers_zone_waits_for_the_morning(app, inbox):
    """The reply is a text deferred by the guard's quiet hours, and the agent is told until
    when and why; the borrower's view carries no delivery detail."""
    conversation_id = _sms_conversation(app, inbox)
    message, outbox, payload, borrower_view = _reply(app, inbox, conversation_id, LATE_NIGHT)
    assert message.channel is SupportChannel.SMS
    assert (outbox.channel, outbox.status, outbox.recipient) == (
        Channel.SMS,
        MessageStatus.QUEUED,
        PHONE,
    )
    assert outbox.not_before > LATE_NIGHT
    assert outbox.not_before.astimezone(UTC).date() == datetime(2026, 12, 1).date()
    with app.app_context():
        rule = db.session.scalar(
            select(ContactDecisionRecord.rule).where(ContactDecisionRecord.message_id == outbox.id)
        )
    assert rule == "quiet_hours"
    assert payload["delivery"].startswith("Text held until")
    assert "delivery" not in borrower_view


def test_a_reply_in_the_morning_is_queued_now(app, inbox):
    """Inside the window the text is queued to go at once."""
    conversation_id = _sms_conversation(app, inbox)
    _message, outbox, payload, _ = _reply(app, inbox, conversation_id, MORNING)
    assert (outbox.status, outbox.not_before) == (MessageStatus.QUEUED, MORNING)
    assert payload["delivery"] == "Text: Queued."


def test_a_reply_to_a_borrower_who_texted_stop_is_blocked_and_says_so(app, inbox):
    """Opt-outs are honoured: the reply is kept in the transcript but never sent."""
    conversation_id = _sms_conversation(app, inbox)
    with app.app_context():
        set_channel_preference(inbox.borrower.id, Channel.SMS, False, now=MORNING, source="test")
        db.session.commit()
    _message, outbox, payload, _ = _reply(app, inbox, conversation_id, MORNING)
    assert (outbox.status, outbox.blocked_rule) == (MessageStatus.BLOCKED, "opt_out:sms")
    assert payload["delivery"].startswith("Text not sent")


def test_a_private_note_on_an_sms_conversation_is_never_texted(app, inbox):
    """Notes stay in the console."""
    conversation_id = _sms_conversation(app, inbox)
    with app.app_context():
        before = db.session.scalar(select(func.count(Message.id)))
        posted = post_message(
            conversation_id,
            author=user(inbox.agent),
            body="note",
            client_id="n",
            now=MORNING,
            private_note=True,
        )
        db.session.commit()
        assert posted.message.outbox_message_id is None
        assert db.session.scalar(select(func.count(Message.id))) == before
