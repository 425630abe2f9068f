"""SMS delivery: the log adapter, and the Twilio adapter against a fake Twilio server."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import select

from portal.auth.models import Channel
from portal.extensions import db
from portal.messaging.channels.sms import LogSmsChannel, build_sms_adapter
from portal.messaging.channels.twilio import TwilioSmsChannel
from portal.messaging.dispatch import dispatch_due
from portal.messaging.models import ContactDecisionRecord, Message, MessageStatus, SmsLog
from portal.messaging.outbox import enqueue
from tests.messaging.sms.conftest import (
    RECEIPT_VARIABLES,
    REMINDER_VARIABLES,
    FakeTwilio,
    give_phone,
    install_sms_templates,
)

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai: inside the contact window
PHONE = "+8613800138000"
SMS_FROM = "+15005550006"
PUBLIC_URL = "https://settle.example"


@pytest.fixture
def fake():
    server = FakeTwilio().start()
    yield server
    server.stop()


@pytest.fixture
def twilio(app_ctx, fake, monkeypatch):
    """The app context, configured to send SMS through the fake Twilio, with SMS templates."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)  # the fake is local: never go through a proxy
    app_ctx.config.update(
        SMS_PROVIDER="twilio",
        SMS_API_BASE=fake.url,
        SMS_ACCOUNT_SID=fake.account_sid,
        SMS_AUTH_TOKEN=fake.auth_token,
        SMS_FROM=SMS_FROM,
        PUBLIC_URL=PUBLIC_URL,
    )
    install_sms_templates(NOW)
    return app_ctx


@pytest.fixture
def borrower(make_user):
    """A Chinese-speaking borrower with a mobile number; returns the id."""

    def factory(*, phone: str | None = PHONE, locale: str = "zh_CN", name: str = "张三") -> int:
        borrower_id = make_user(locale=locale, name=name).id
        give_phone(borrower_id, phone)
        return borrower_id

    return factory


def _reminder(borrower_id: int, *, dedupe: str = "r1") -> Message:
    message = enqueue(
        borrower_id=borrower_id,
        purpose_code="pre_due_reminder",
        channel=Channel.SMS,
        variables=REMINDER_VARIABLES,
        now=NOW,
        dedupe_key=f"test:{dedupe}",
    )
    db.session.commit()
    return message


def _dispatch(at: datetime = NOW, **kwargs):
    report = dispatch_due(lambda: at, **kwargs)
    db.session.expire_all()
    return report


def test_a_chinese_reminder_reaches_twilio_and_ends_sent_with_the_sid(twilio, fake, borrower):
    """The fake receives To, From, the Chinese body with its opt-out line, and the callback URL."""
    message = _reminder(borrower())

    report = _dispatch()

    assert report.sent == 1
    assert len(fake.requests) == 1
    sent = fake.requests[0]
    expected_body = "张三您好，借款LN-00042将于2026-12-15到期，应还¥1,234.00。\n回复TD退订"
    assert sent.path == f"/2010-04-01/Accounts/{fake.account_sid}/Messages.json"
    assert sent.form == {
        "To": PHONE,
        "From": SMS_FROM,
        "Body": expected_body,
        "StatusCallback": "https://settle.example/webhooks/sms/status",
    }
    row = db.session.get_one(Message, message.id)
    assert row.body_text == expected_body
    assert row.status is MessageStatus.SENT
    assert row.provider_reference == sent.sid
    assert row.provider_reference.startswith("SM")
    assert row.sent_at == NOW
    assert row.attempts == 1


def test_an_english_reminder_carries_the_english_opt_out_line(twilio, fake, borrower):
    """English texts that are not required notices end with "Reply STOP to opt out."."""
    _reminder(borrower(locale="en", name="Ann"))

    _dispatch()

    assert fake.requests[0].form["Body"] == (
        "Hi Ann, ¥1,234.00 on loan LN-00042 is due on 2026-12-15.\nReply STOP to opt out."
    )


def test_a_required_notice_has_no_opt_out_line(twilio, fake, borrower):
    """A payment receipt is sent as written: opting out cannot stop it, so no opt-out line."""
    enqueue(
        borrower_id=borrower(locale="en"),
        purpose_code="payment_receipt",
        channel=Channel.SMS,
        variables=RECEIPT_VARIABLES,
        now=NOW,
    )
    db.session.commit()

    _dispatch()

    assert fake.requests[0].form["Body"] == (
        "We received ¥500.00 for loan LN-00042 on 2026-11-30. Left to pay: ¥734.00."
    )


def test_a_second_dispatch_does_not_send_again(twilio, fake, borrower):
    """Once sent, a message is never claimed again: the provider sees it exactly once."""
    _reminder(borrower())
    _dispatch()

    report = _dispatch(NOW + timedelta(hours=1))

    assert report.claimed == 0
    assert len(fake.requests) == 1


@pytest.mark.parametrize(
    ("code", "reason"),
    [(21211, "invalid phone number"), (21610, "recipient unsubscribed (replied STOP)")],
)
def test_a_refused_number_is_dead_with_the_reason_and_never_retried(
    twilio, fake, borrower, code, reason
):
    """Twilio's 400 for an invalid or unsubscribed number dead-letters the message at once."""
    fake.fail_next(400, code, "The 'To' number is not valid.")
    message = _reminder(borrower())

    report = _dispatch()
    later = _dispatch(NOW + timedelta(days=1))

    row = db.session.get_one(Message, message.id)
    assert (report.dead, report.failed, report.sent) == (1, 0, 0)
    assert row.status is MessageStatus.DEAD
    assert row.last_error == f"twilio 400 error {code}: {reason}"
    assert row.provider_reference is None
    assert later.claimed == 0
    assert len(fake.requests) == 1


def test_a_server_error_fails_then_the_retry_after_backoff_is_sent(twilio, fake, borrower):
    """A 500 leaves the message failed until the backoff has passed; the retry then goes out."""
    fake.fail_next(500, None, "Internal Server Error")
    message = _reminder(borrower())

    first = _dispatch()
    row = db.session.get_one(Message, message.id)
    assert first.failed == 1
    assert row.status is MessageStatus.FAILED
    assert row.last_error == "twilio 500: Internal Server Error"
    assert row.not_before == NOW + timedelta(minutes=1)

    too_early = _dispatch(NOW + timedelta(seconds=30))
    assert too_early.claimed == 0
    assert len(fake.requests) == 1

    retry = _dispatch(NOW + timedelta(minutes=1))
    row = db.session.get_one(Message, message.id)
    assert retry.sent == 1
    assert row.status is MessageStatus.SENT
    assert row.attempts == 2
    assert row.last_error is None
    assert row.provider_reference == fake.requests[1].sid
    assert row.sent_at == NOW + timedelta(minutes=1)


def test_rate_limiting_is_transient(twilio, fake, borrower):
    """Twilio's 429 (too many requests) is retried later, not dead-lettered."""
    fake.fail_next(429, 20429, "Too Many Requests")
    message = _reminder(borrower())

    _dispatch()

    row = db.session.get_one(Message, message.id)
    assert row.status is MessageStatus.FAILED
    assert row.last_error.startswith("twilio 429 error 20429")


def test_wrong_credentials_keep_messages_waiting_not_dead(twilio, fake, borrower):
    """A 401 is our configuration, not the number: the message waits for a retry."""
    twilio.config["SMS_AUTH_TOKEN"] = "not-the-token"
    message = _reminder(borrower())

    _dispatch()

    row = db.session.get_one(Message, message.id)
    assert row.status is MessageStatus.FAILED
    assert "error 20003" in row.last_error
    assert "check SMS_ACCOUNT_SID, SMS_AUTH_TOKEN, SMS_API_BASE" in row.last_error
    assert fake.requests == []  # the fake refused it before accepting anything


def test_an_unreachable_provider_is_transient(twilio, borrower):
    """Nothing listening on SMS_API_BASE: the message fails and will be retried."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    twilio.config["SMS_API_BASE"] = f"http://127.0.0.1:{closed_port}"
    message = _reminder(borrower())

    _dispatch()

    row = db.session.get_one(Message, message.id)
    assert row.status is MessageStatus.FAILED
    assert row.last_error == "twilio: unreachable (ConnectionError)"


def test_a_slow_provider_times_out_and_is_retried(twilio, fake, borrower):
    """A provider slower than the read timeout fails the try instead of hanging the worker."""
    fake.reply_next(201, '{"sid": "SMslow"}', delay=1.0)
    message = _reminder(borrower())
    adapter = TwilioSmsChannel(twilio.config, timeout=(1.0, 0.2))

    _dispatch(adapters={Channel.SMS: adapter})

    row = db.session.get_one(Message, message.id)
    assert row.status is MessageStatus.FAILED
    assert row.last_error == "twilio: timed out (ReadTimeout)"


def test_an_accepted_text_without_a_sid_counts_as_sent(twilio, fake, borrower):
    """A 201 whose body is not JSON was still accepted: resending would text twice."""
    fake.reply_next(201, "<html>accepted</html>")
    message = _reminder(borrower())

    report = _dispatch()

    row = db.session.get_one(Message, message.id)
    assert report.sent == 1
    assert row.status is MessageStatus.SENT
    assert row.provider_reference is None


def test_a_borrower_without_a_phone_is_blocked_no_address(twilio, fake, borrower):
    """enqueue has no recipient, so the guard blocks with "no_address"; nothing reaches Twilio."""
    message = _reminder(borrower(phone=None))

    report = _dispatch()

    row = db.session.get_one(Message, message.id)
    assert row.status is MessageStatus.BLOCKED
    assert row.blocked_rule == "no_address"
    assert row.recipient is None
    decision = db.session.scalars(
        select(ContactDecisionRecord).where(ContactDecisionRecord.message_id == message.id)
    ).one()
    assert (decision.outcome, decision.rule) == ("block", "no_address")
    assert report.claimed == 0
    assert fake.requests == []


def test_one_http_session_per_batch(twilio, fake, borrower, monkeypatch):
    """Three texts in one batch share one requests.Session, which is closed afterwards."""
    sessions: list[CountingSession] = []

    class CountingSession(requests.Session):
        closed = False

        def __init__(self):
            super().__init__()
            sessions.append(self)

        def close(self):
            self.closed = True
            super().close()

    monkeypatch.setattr(requests, "Session", CountingSession)
    for index in range(3):
        # Three borrowers: the daily cap (two texts a day each) must not defer any of them.
        _reminder(borrower(phone=f"+861380013800{index}"), dedupe=f"batch{index}")

    report = _dispatch()

    assert report.sent == 3
    assert report.batches == 1
    assert len(sessions) == 1
    assert sessions[0].closed
    assert {r.form["To"] for r in fake.requests} == {f"+861380013800{i}" for i in range(3)}


def test_the_log_adapter_writes_sms_log_rows(app_ctx, borrower):
    """With the default SMS_PROVIDER=log the text lands in sms_log and the message is sent."""
    assert app_ctx.config["SMS_PROVIDER"] == "log"
    install_sms_templates(NOW)
    message = _reminder(borrower())

    report = _dispatch()

    row = db.session.get_one(Message, message.id)
    log = db.session.scalars(select(SmsLog)).one()
    assert report.sent == 1
    assert row.status is MessageStatus.SENT
    assert row.provider_reference == f"log-{message.id}"
    assert (log.message_id, log.to_number) == (message.id, PHONE)
    assert log.body == row.body_text
    assert log.body.endswith("\n回复TD退订")


def test_build_sms_adapter_follows_sms_provider(app_ctx):
    """log and twilio give their adapters; an unknown provider is refused loudly."""
    config = {
        "SMS_API_BASE": "https://api.twilio.com",
        "SMS_ACCOUNT_SID": "AC1",
        "SMS_AUTH_TOKEN": "token",
        "SMS_FROM": SMS_FROM,
        "PUBLIC_URL": PUBLIC_URL + "/",
    }
    assert isinstance(build_sms_adapter({**config, "SMS_PROVIDER": "log"}), LogSmsChannel)
    adapter = build_sms_adapter({**config, "SMS_PROVIDER": "twilio"})
    assert isinstance(adapter, TwilioSmsChannel)
    assert adapter.messages_url == "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json"
    assert adapter.status_callback == "https://settle.example/webhooks/sms/status"
    with pytest.raises(ValueError, match="unknown SMS_PROVIDER"):
        build_sms_adapter({**config, "SMS_PROVIDER": "carrier-pigeon"})
