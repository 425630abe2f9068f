"""Twilio's webhooks: signed delivery reports and inbound texts, including STOP."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.auth.models import Channel, ContactPreference
from portal.extensions import db
from portal.messaging.channels.twilio import request_signature
from portal.messaging.dispatch import dispatch_due
from portal.messaging.models import (
    CallOutcome,
    EmergencyContact,
    InboundSms,
    Message,
    MessageStatus,
)
from portal.messaging.outbox import enqueue
from portal.messaging.sms.inbound import is_opt_in, is_opt_out
from portal.timeutil import utcnow
from tests.messaging.sms.conftest import (
    RECEIPT_VARIABLES,
    REMINDER_VARIABLES,
    give_phone,
    install_sms_templates,
)

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai: inside the contact window
TOKEN = "webhook-test-token"
PUBLIC_URL = "https://settle.example"
PHONE = "+8613800138000"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@pytest.fixture
def hooks(app):
    """The app with a Twilio auth token and a public URL that differs from the test host."""
    app.config.update(SMS_AUTH_TOKEN=TOKEN, PUBLIC_URL=PUBLIC_URL)
    with app.app_context():
        install_sms_templates(NOW)
    return app


def _sign(url: str, params: dict[str, str], token: str = TOKEN) -> str:
    """Twilio's scheme, written out independently of the code under test."""
    data = url + "".join(name + value for name, value in sorted(params.items()))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def _post(client, path: str, params: dict[str, str], *, signature: str | None = "sign"):
    headers = {}
    if signature == "sign":
        headers["X-Twilio-Signature"] = _sign(PUBLIC_URL + path, params)
    elif signature is not None:
        headers["X-Twilio-Signature"] = signature
    return client.post(path, data=params, headers=headers)


def _status(client, sid: str, status: str, **extra: str):
    return _post(
        client, "/webhooks/sms/status", {"MessageSid": sid, "MessageStatus": status, **extra}
    )


def _inbound(client, sid: str, body: str, from_number: str = PHONE, **kwargs):
    params = {"MessageSid": sid, "From": from_number, "To": "+15005550006", "Body": body}
    return _post(client, "/webhooks/sms/inbound", params, **kwargs)


def _borrower(app, make_user, phone: str | None = PHONE) -> int:
    borrower_id = make_user(locale="en", name="Ann").id
    with app.app_context():
        give_phone(borrower_id, phone)
    return borrower_id


def _sent_sms(app, borrower_id: int, sid: str = "SM0001") -> int:
    """An SMS reminder delivered through the log adapter, then given a Twilio-style sid."""
    with app.app_context():
        message = enqueue(
            borrower_id=borrower_id,
            purpose_code="pre_due_reminder",
            channel=Channel.SMS,
            variables=REMINDER_VARIABLES,
            now=NOW,
        )
        db.session.commit()
        assert dispatch_due(lambda: NOW).sent == 1
        message = db.session.get_one(Message, message.id)
        message.provider_reference = sid
        db.session.commit()
        return message.id


def _message(app, message_id: int) -> Message:
    with app.app_context():
        message = db.session.get_one(Message, message_id)
        db.session.expunge(message)
        return message


def _sms_allowed(app, borrower_id: int) -> bool:
    with app.app_context():
        return db.session.scalars(
            select(ContactPreference.allowed).where(
                ContactPreference.borrower_id == borrower_id,
                ContactPreference.channel == Channel.SMS,
            )
        ).one()


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _opt_out_events(app) -> list[AuditEvent]:
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "contact.opt_out")
        ).all()
        db.session.expunge_all()
        return list(events)


# Signatures


def test_signature_matches_twilios_documented_example():
    """request_signature reproduces the example in Twilio's security documentation."""
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+14158675309",
        "Digits": "1234",
        "From": "+14158675309",
        "To": "+18005551212",
    }
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert request_signature("12345", url, params.items()) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert request_signature("12345", url, {**params, "Digits": "9"}.items()) != (
        "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    )


@pytest.mark.parametrize(
    "signature",
    [None, "", "bm90IGEgc2lnbmF0dXJl", "wrong-token"],
    ids=["missing", "empty", "garbage", "other-key"],
)
def test_a_status_report_without_a_valid_signature_is_refused(hooks, client, make_user, signature):
    """403, and the message stays as it was."""
    message_id = _sent_sms(hooks, _borrower(hooks, make_user))
    params = {"MessageSid": "SM0001", "MessageStatus": "delivered"}
    if signature == "wrong-token":
        signature = _sign(PUBLIC_URL + "/webhooks/sms/status", params, token="guess")

    response = _post(client, "/webhooks/sms/status", params, signature=signature)

    assert response.status_code == 403
    message = _message(hooks, message_id)
    assert message.status is MessageStatus.SENT
    assert message.delivered_at is None


def test_the_signature_covers_the_public_url_not_the_internal_host(hooks, client, make_user):
    """Signed over the URL Flask sees (http://localhost) it is refused: Twilio signs PUBLIC_URL."""
    message_id = _sent_sms(hooks, _borrower(hooks, make_user))
    params = {"MessageSid": "SM0001", "MessageStatus": "delivered"}
    internal = _sign("http://localhost/webhooks/sms/status", params)

    refused = _post(client, "/webhooks/sms/status", params, signature=internal)
    accepted = _post(client, "/webhooks/sms/status", params)

    assert refused.status_code == 403
    assert accepted.status_code == 200
    assert _message(hooks, message_id).status is MessageStatus.DELIVERED


def test_a_tampered_parameter_breaks_the_signature(hooks, client, make_user):
    """A signature for "delivered" does not carry over to "failed"."""
    message_id = _sent_sms(hooks, _borrower(hooks, make_user))
    genuine = _sign(
        PUBLIC_URL + "/webhooks/sms/status", {"MessageSid": "SM0001", "MessageStatus": "delivered"}
    )

    response = _post(
        client,
        "/webhooks/sms/status",
        {"MessageSid": "SM0001", "MessageStatus": "failed"},
        signature=genuine,
    )

    assert response.status_code == 403
    assert _message(hooks, message_id).status is MessageStatus.SENT


def test_without_an_auth_token_every_webhook_is_refused(hooks, client, make_user):
    """No SMS_AUTH_TOKEN: even a signature made with the empty key is refused."""
    hooks.config["SMS_AUTH_TOKEN"] = ""
    borrower_id = _borrower(hooks, make_user)
    params = {"MessageSid": "SM9", "From": PHONE, "Body": "STOP"}

    response = _post(
        client,
        "/webhooks/sms/inbound",
        params,
        signature=_sign(PUBLIC_URL + "/webhooks/sms/inbound", params, token=""),
    )

    assert response.status_code == 403
    assert _count(hooks, InboundSms) == 0
    assert _sms_allowed(hooks, borrower_id) is True


# Delivery reports


def test_delivered_marks_the_message_delivered(hooks, client, make_user):
    """MessageStatus=delivered sets the status and delivered_at."""
    message_id = _sent_sms(hooks, _borrower(hooks, make_user))
    before = utcnow()

    response = _status(client, "SM0001", "delivered")

    assert response.status_code == 200
    message = _message(hooks, message_id)
    assert message.status is MessageStatus.DELIVERED
    assert message.delivered_at is not None
    assert before <= message.delivered_at <= utcnow()


def test_a_repeated_delivered_report_keeps_the_first_time(hooks, client, make_user):
    """The second "delivered" for the same sid changes nothing."""
    message_id = _sent_sms(hooks, _borrower(hooks, make_user))
    _status(client, "SM0001", "delivered")
    first = _message(hooks, message_id).delivered_at

    assert _status(client, "SM0001", "delivered").status_code == 200

    assert _message(hooks, message_id).delivered_at == first


@pytest.mark.parametrize(
    ("status", "extra", "reason"),
    [
        ("undelivered", {"ErrorCode": "30003"}, "carrier: 30003"),
        ("failed", {"ErrorCode": "30008"}, "carrier: 30008"),
        ("failed", {}, "carrier: no error code"),
    ],
)
def test_a_carrier_failure_is_dead_and_not_retried(hooks, client, make_user, status, extra, reason):
    """After the provider accepted a text, a carrier failure dead-letters it: no blind resend."""
    message_id = _sent_sms(hooks, _borrower(hooks, make_user))

    response = _status(client, "SM0001", status, **extra)

    assert response.status_code == 200
    message = _message(hooks, message_id)
    assert message.status is MessageStatus.DEAD
    assert message.last_error == reason
    with hooks.app_context():
        assert dispatch_due(lambda: NOW + timedelta(days=1)).claimed == 0


def test_a_failure_report_after_delivery_is_ignored(hooks, client, make_user):
    """Delivered is a fact: a late "undelivered" does not undo it."""
    message_id = _sent_sms(hooks, _borrower(hooks, make_user))
    _status(client, "SM0001", "delivered")

    _status(client, "SM0001", "undelivered", ErrorCode="30003")

    message = _message(hooks, message_id)
    assert message.status is MessageStatus.DELIVERED
    assert message.last_error is None


@pytest.mark.parametrize("status", ["queued", "sending", "sent", "accepted"])
def test_progress_reports_change_nothing(hooks, client, make_user, status):
    """Intermediate statuses leave the message sent."""
    message_id = _sent_sms(hooks, _borrower(hooks, make_user))

    assert _status(client, "SM0001", status).status_code == 200

    message = _message(hooks, message_id)
    assert message.status is MessageStatus.SENT
    assert message.delivered_at is None


def test_an_unknown_sid_is_acknowledged_and_ignored(hooks, client, make_user):
    """200 so that Twilio stops, and no message changes."""
    message_id = _sent_sms(hooks, _borrower(hooks, make_user))

    response = _status(client, "SMunknown", "delivered")

    assert response.status_code == 200
    assert _message(hooks, message_id).status is MessageStatus.SENT


def test_a_signed_report_without_a_sid_is_a_bad_request(hooks, client):
    """A genuine request missing MessageSid is answered 400."""
    response = _post(client, "/webhooks/sms/status", {"MessageStatus": "delivered"})

    assert response.status_code == 400


# Inbound texts


@pytest.mark.parametrize(
    "body",
    [
        "STOP",
        " stop ",
        "StopAll",
        "UNSUBSCRIBE",
        "cancel",
        "End",
        "QUIT",
        "TD",
        "td",
        "T",
        "t",
        "退订",
        " 退订\n",
        "ＴＤ",
        "ＳＴＯＰ",
    ],
)
def test_opt_out_keywords_are_recognised(body):
    """Every keyword, trimmed, in any case, also in full-width letters."""
    assert is_opt_out(body)


@pytest.mark.parametrize(
    "body", ["", "HELP", "stop please", "don't stop", "STOP.", "TD退订", "START", "退订吧"]
)
def test_other_texts_are_not_opt_outs(body):
    """A keyword must be the whole text: sentences and other keywords are not opt-outs."""
    assert not is_opt_out(body)


def test_stop_opts_the_borrower_out_of_sms(hooks, client, make_user):
    """The text is stored with its borrower, the SMS preference is off, and it is audited."""
    borrower_id = _borrower(hooks, make_user)
    other_id = _borrower(hooks, make_user, phone="+8613900139000")

    response = _inbound(client, "SMin1", "Stop")

    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert response.get_data(as_text=True) == EMPTY_TWIML
    with hooks.app_context():
        inbound = db.session.scalars(select(InboundSms)).one()
        assert (inbound.provider_reference, inbound.from_number, inbound.body) == (
            "SMin1",
            PHONE,
            "Stop",
        )
        assert (inbound.borrower_id, inbound.action) == (borrower_id, "opt_out")
    assert _sms_allowed(hooks, borrower_id) is False
    assert _sms_allowed(hooks, other_id) is True
    [event] = _opt_out_events(hooks)
    assert event.object_id == str(borrower_id)
    assert event.details == {"channel": "sms", "source": "sms_stop"}


def test_a_duplicate_stop_is_a_no_op(hooks, client, make_user):
    """Twilio retrying the same MessageSid: still 200, one stored text, one audit event."""
    borrower_id = _borrower(hooks, make_user)

    first = _inbound(client, "SMdup", "退订")
    second = _inbound(client, "SMdup", "退订")

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.get_data(as_text=True) == EMPTY_TWIML
    assert _count(hooks, InboundSms) == 1
    assert len(_opt_out_events(hooks)) == 1
    assert _sms_allowed(hooks, borrower_id) is False


def test_stop_from_an_unknown_number_is_stored_without_action(hooks, client, make_user):
    """Nobody has that phone: the text is kept, no preference changes."""
    borrower_id = _borrower(hooks, make_user)

    response = _inbound(client, "SMx", "STOP", from_number="+8613700137000")

    assert response.status_code == 200
    with hooks.app_context():
        inbound = db.session.scalars(select(InboundSms)).one()
        assert (inbound.borrower_id, inbound.action) == (None, "none")
    assert _sms_allowed(hooks, borrower_id) is True
    assert _opt_out_events(hooks) == []


def test_a_question_is_stored_without_action(hooks, client, make_user):
    """A text that is not a keyword changes no preference."""
    borrower_id = _borrower(hooks, make_user)

    _inbound(client, "SMq", "Can I pay next week?")

    with hooks.app_context():
        assert db.session.scalars(select(InboundSms.action)).one() == "none"
    assert _sms_allowed(hooks, borrower_id) is True


def test_stop_from_a_shared_phone_opts_out_every_borrower_with_it(hooks, client, make_user):
    """Texts to any of them would reach the person who said stop."""
    first = _borrower(hooks, make_user)
    second = _borrower(hooks, make_user)

    _inbound(client, "SMshared", "STOP")

    assert (_sms_allowed(hooks, first), _sms_allowed(hooks, second)) == (False, False)
    with hooks.app_context():
        inbound = db.session.scalars(select(InboundSms)).one()
        assert (inbound.borrower_id, inbound.action) == (None, "opt_out")


def test_an_unsigned_inbound_text_is_refused_and_not_stored(hooks, client, make_user):
    """A forged STOP cannot opt anyone out."""
    borrower_id = _borrower(hooks, make_user)

    response = _inbound(client, "SMforged", "STOP", signature="forged")

    assert response.status_code == 403
    assert _count(hooks, InboundSms) == 0
    assert _sms_allowed(hooks, borrower_id) is True


def test_after_stop_reminders_are_blocked_but_receipts_still_go(hooks, client, make_user):
    """The guard blocks an SMS reminder with opt_out:sms; an SMS payment receipt is sent."""
    borrower_id = _borrower(hooks, make_user)
    _inbound(client, "SMstop", "STOP")

    with hooks.app_context():
        reminder = enqueue(
            borrower_id=borrower_id,
            purpose_code="pre_due_reminder",
            channel=Channel.SMS,
            variables=REMINDER_VARIABLES,
            now=NOW,
        )
        receipt = enqueue(
            borrower_id=borrower_id,
            purpose_code="payment_receipt",
            channel=Channel.SMS,
            variables=RECEIPT_VARIABLES,
            now=NOW,
        )
        db.session.commit()
        report = dispatch_due(lambda: NOW)
        db.session.expire_all()

        reminder = db.session.get_one(Message, reminder.id)
        receipt = db.session.get_one(Message, receipt.id)
        assert reminder.status is MessageStatus.BLOCKED
        assert reminder.blocked_rule == "opt_out:sms"
        assert receipt.status is MessageStatus.SENT
        assert report.sent == 1


# STOP from an emergency contact, and START

CONTACT_PHONE = "+8613900139000"


def _contact(app, borrower_id: int, phone: str = CONTACT_PHONE) -> int:
    from portal.messaging.emergency_contacts.services import add_contact

    with app.app_context():
        contact = add_contact(
            borrower_id, name="Li Wei", phone=phone, relationship="friend", now=NOW, actor_id=None
        )
        db.session.commit()
        return contact.id


def _contact_opted_out_at(app, contact_id: int):
    with app.app_context():
        return db.session.get_one(EmergencyContact, contact_id).opted_out_at


def _actions(app, prefix: str) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.action.startswith(prefix))
                .order_by(AuditEvent.sequence)
            )
        )


@pytest.mark.parametrize("body", ["START", " start ", "Unstop", "YES", "ｙｅｓ"])
def test_opt_in_keywords_are_recognised(body):
    """Twilio's opt-in keywords, alone, in any case or width."""
    assert is_opt_in(body)
    assert not is_opt_out(body)


@pytest.mark.parametrize("body", ["start please", "yes I will pay", "订阅", "STOP", "Y"])
def test_other_texts_are_not_opt_ins(body):
    """A sentence is not an opt-in, and there is no Chinese opt-in keyword."""
    assert not is_opt_in(body)


def test_stop_from_an_emergency_contact_records_their_opt_out(hooks, client, make_user):
    """The contact is opted out (audited, without the number); the borrower's SMS stays on."""
    borrower_id = _borrower(hooks, make_user)
    contact_id = _contact(hooks, borrower_id)

    response = _inbound(client, "SMec1", "退订", from_number=CONTACT_PHONE)

    assert response.status_code == 200
    assert _contact_opted_out_at(hooks, contact_id) is not None
    assert _sms_allowed(hooks, borrower_id) is True
    with hooks.app_context():
        inbound = db.session.scalars(select(InboundSms)).one()
        assert (inbound.borrower_id, inbound.action) == (None, "opt_out")
        [event] = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "emergency_contact.opt_out")
        ).all()
        assert (event.object_type, event.object_id) == ("emergency_contact", str(contact_id))
        assert event.details == {"borrower_id": borrower_id, "source": "sms_stop"}


def test_after_stop_the_guard_blocks_every_text_to_that_contact(hooks, client, make_user):
    """Even with the borrower unreachable, a text to the contact is blocked with its own rule."""
    from portal.messaging.calls import log_call
    from portal.messaging.default_templates import install_default_templates

    borrower_id = _borrower(hooks, make_user)
    contact_id = _contact(hooks, borrower_id)
    _inbound(client, "SMec2", "STOP", from_number=CONTACT_PHONE)

    with hooks.app_context():
        install_default_templates(now=NOW)
        for minutes in (3, 2, 1):
            log_call(
                borrower_id,
                outcome=CallOutcome.NO_ANSWER,
                now=NOW - timedelta(minutes=minutes),
                actor_id=borrower_id,
            )
        message = enqueue(
            borrower_id=borrower_id,
            purpose_code="third_party_locate",
            channel=Channel.SMS,
            variables={"contact_name": "Li Wei"},
            now=NOW,
            emergency_contact_id=contact_id,
        )
        assert (message.status, message.blocked_rule) == (
            MessageStatus.BLOCKED,
            "emergency_contact_opt_out",
        )


def test_a_duplicate_stop_from_a_contact_is_a_no_op(hooks, client, make_user):
    """The same MessageSid twice: one stored text, one opt-out event, the first time kept."""
    contact_id = _contact(hooks, _borrower(hooks, make_user))

    _inbound(client, "SMecdup", "STOP", from_number=CONTACT_PHONE)
    first = _contact_opted_out_at(hooks, contact_id)
    again = _inbound(client, "SMecdup", "STOP", from_number=CONTACT_PHONE)

    assert again.status_code == 200
    assert _count(hooks, InboundSms) == 1
    assert _actions(hooks, "emergency_contact.opt") == ["emergency_contact.opt_out"]
    assert _contact_opted_out_at(hooks, contact_id) == first


def test_a_number_that_is_both_borrower_and_contact_is_opted_out_as_both(hooks, client, make_user):
    """Ann is someone else's emergency contact: her STOP covers both roles."""
    ann = _borrower(hooks, make_user)
    contact_id = _contact(hooks, _borrower(hooks, make_user, phone="+8613700137000"), PHONE)

    _inbound(client, "SMboth", "STOP")

    assert _sms_allowed(hooks, ann) is False
    assert _contact_opted_out_at(hooks, contact_id) is not None
    with hooks.app_context():
        assert db.session.scalars(select(InboundSms.borrower_id)).one() == ann


def test_start_turns_the_borrowers_sms_back_on(hooks, client, make_user):
    """STOP then START: SMS is allowed again, audited as an opt-in from sms_start."""
    borrower_id = _borrower(hooks, make_user)
    _inbound(client, "SMoff", "STOP")

    response = _inbound(client, "SMon", "Start")

    assert response.status_code == 200
    assert _sms_allowed(hooks, borrower_id) is True
    with hooks.app_context():
        inbound = db.session.scalars(
            select(InboundSms).where(InboundSms.provider_reference == "SMon")
        ).one()
        assert (inbound.borrower_id, inbound.action) == (borrower_id, "opt_in")
        [event] = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "contact.opt_in")
        ).all()
        assert event.details == {"channel": "sms", "source": "sms_start"}


def test_start_lifts_an_emergency_contacts_opt_out(hooks, client, make_user):
    """UNSTOP from the contact's number clears opted_out_at, audited."""
    contact_id = _contact(hooks, _borrower(hooks, make_user))
    _inbound(client, "SMecoff", "STOP", from_number=CONTACT_PHONE)

    _inbound(client, "SMecon", "UNSTOP", from_number=CONTACT_PHONE)

    assert _contact_opted_out_at(hooks, contact_id) is None
    assert _actions(hooks, "emergency_contact.opt") == [
        "emergency_contact.opt_out",
        "emergency_contact.opt_in",
    ]


def test_start_from_someone_never_opted_out_changes_nothing(hooks, client, make_user):
    """Already allowed: no preference change, no audit event."""
    borrower_id = _borrower(hooks, make_user)
    _contact(hooks, _borrower(hooks, make_user, phone="+8613700137000"))

    _inbound(client, "SMyes", "YES")
    _inbound(client, "SMyes2", "YES", from_number=CONTACT_PHONE)

    assert _sms_allowed(hooks, borrower_id) is True
    assert _actions(hooks, "contact.opt") == []
    assert _actions(hooks, "emergency_contact.opt") == []
