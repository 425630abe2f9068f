"""Email over real SMTP: what arrives, how refusals and outages end, STARTTLS and AUTH."""

from __future__ import annotations

import re
import socket
import ssl
import subprocess
import time
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from urllib.parse import urlsplit

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import select

from portal.auth.models import Channel, Role
from portal.extensions import db
from portal.messaging.dispatch import dispatch_due, retry_delay
from portal.messaging.models import Message, MessageStatus
from portal.messaging.templates import save_version
from tests.messaging.channels.conftest import HOST, free_port, parts, queue_email, running_sink

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai: inside the contact window


def at(moment: datetime):
    return lambda: moment


@pytest.fixture
def sink(app_ctx):
    with running_sink() as server:
        app_ctx.config.update(SMTP_HOST=HOST, SMTP_PORT=server.port)
        yield server


def reload(message: Message) -> Message:
    db.session.expire_all()
    return db.session.get(Message, message.id)  # type: ignore[return-value]


def test_chinese_email_arrives_as_text_and_html_with_exact_subject(sink, make_user):
    """A zh_CN borrower's email is multipart/alternative with the Chinese subject intact."""
    borrower = make_user(Role.BORROWER, locale="zh_CN", name="王小明")
    message = queue_email(borrower.id, NOW)

    report = dispatch_due(at(NOW))

    assert report.sent == 1
    [received] = sink.messages
    email = received.message
    assert email.get_content_type() == "multipart/alternative"
    assert email["Subject"] == "还款日提醒" == message.subject
    body = parts(email)
    assert set(body) == {"text/plain", "text/html"}
    assert "王小明，您好" in body["text/plain"]
    assert "王小明，您好" in body["text/html"]
    assert email["Content-Language"] == "zh-CN"
    assert received.raw.isascii()  # non-ASCII travels encoded: no 8BITMIME needed
    assert received.envelope_to == [borrower.email]
    row = reload(message)
    assert row.status is MessageStatus.SENT
    assert row.sent_at == NOW


def test_long_mixed_subject_and_name_survive_folding(sink, make_user):
    """A long subject mixing Chinese, ASCII and spaces, and a 120-character name, arrive exact."""
    save_version(
        purpose_code="pre_due_reminder",
        channel=Channel.EMAIL,
        locale="zh_CN",
        subject="还款日提醒：借款 {{ loan_reference }} 本期应还 {{ amount_due }}，到期日 "
        "{{ due_date }}。 如已还款请忽略本提醒 (Settle)  谢谢您的配合",
        body_text="{{ borrower_name }}您好：借款{{ loan_reference }}应还{{ amount_due }}，"
        "到期日{{ due_date }}。{{ pay_url }}",
        body_html=None,
        actor_id=None,
        now=NOW,
    )
    db.session.commit()
    name = "欧阳" * 59 + " A"
    borrower = make_user(Role.BORROWER, locale="zh_CN", name=name)
    message = queue_email(borrower.id, NOW)

    dispatch_due(at(NOW))

    received = sink.messages[0]
    assert received.message["Subject"] == message.subject
    assert message.subject.startswith("还款日提醒：借款 LN-T00001 本期应还 ¥500.00，")
    assert message.subject.endswith("(Settle)  谢谢您的配合")
    assert max(len(line) for line in received.raw.split(b"\r\n")) <= 998
    # RFC 2047 decoding: Python's address parser keeps the folding space between encoded words.
    raw_to = re.search(rb"^To: (.*?)\r\n(?! )", received.raw, re.M | re.S)
    assert raw_to is not None
    decoded = str(make_header(decode_header(raw_to.group(1).decode("ascii"))))
    assert decoded == f"{name} <{borrower.email}>"


def test_english_borrower_gets_english_subject_and_footer(sink, make_user):
    """An en borrower's email has the English subject and an English footer."""
    borrower = make_user(Role.BORROWER, locale="en", name="Mary Major")
    queue_email(borrower.id, NOW)

    dispatch_due(at(NOW))

    email = sink.messages[0].message
    assert email["Subject"] == "Your payment is coming up"
    assert email["Content-Language"] == "en"
    text = parts(email)["text/plain"]
    assert "Dear Mary Major," in text
    assert "To stop these emails, open:" in text


def test_message_id_carries_the_idempotency_key(sink, make_user):
    """The Message-ID names the row's idempotency key, and the row keeps it as its reference."""
    borrower = make_user(Role.BORROWER, locale="en")
    message = queue_email(borrower.id, NOW)

    dispatch_due(at(NOW))

    message_id = str(sink.messages[0].message["Message-ID"])
    assert message.idempotency_key in message_id
    assert re.fullmatch(r"<[0-9a-f]{32}@settle\.local>", message_id)
    assert reload(message).provider_reference == message_id


def test_unsubscribe_headers_and_body_link_are_one_working_signed_link(sink, make_user, client):
    """List-Unsubscribe(-Post) are set and the link in both bodies opens the unsubscribe page."""
    borrower = make_user(Role.BORROWER, locale="en")
    queue_email(borrower.id, NOW)

    dispatch_due(at(NOW))

    email = sink.messages[0].message
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header_link = re.fullmatch(r"<(https?://\S+)>", str(email["List-Unsubscribe"]))
    assert header_link is not None
    link = header_link.group(1)
    body = parts(email)
    assert link in body["text/plain"]
    assert f'href="{link}"' in body["text/html"]
    page = client.get(urlsplit(link).path, headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert "Stop receiving emails from Settle?" in page.get_data(as_text=True)


def test_html_part_escapes_the_borrower_name(sink, make_user):
    """A name like <script> is escaped in HTML, kept as typed in text and in the To header."""
    name = "<script>alert(1)</script> 张"
    borrower = make_user(Role.BORROWER, locale="en", name=name)
    queue_email(borrower.id, NOW)

    dispatch_due(at(NOW))

    received = sink.messages[0]
    body = parts(received.message)
    assert "<script>" not in body["text/html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; 张" in body["text/html"]
    assert f"Dear {name}," in body["text/plain"]
    [address] = received.message["To"].addresses
    assert (address.display_name, address.addr_spec) == (name, borrower.email)
    assert received.envelope_to == [borrower.email]


@pytest.mark.parametrize(
    "name", ["张三 <thief@example.net>", 'O\'Brien, "Bob" <x>', "=?utf-8?b?PHNjcmlwdD4=?="]
)
def test_names_arrive_as_typed_and_never_as_addresses(sink, make_user, name):
    """Names with brackets, commas, quotes or encoded-word syntax stay names, never addresses."""
    borrower = make_user(Role.BORROWER, locale="en", name=name)
    queue_email(borrower.id, NOW)

    dispatch_due(at(NOW))

    received = sink.messages[0]
    [address] = received.message["To"].addresses
    assert (address.display_name, address.addr_spec) == (name, borrower.email)
    assert received.envelope_to == [borrower.email]


def test_a_line_break_in_the_name_cannot_add_headers_or_recipients(sink, make_user):
    """A name with CR/LF and a Bcc: stays one To header; the envelope has only the borrower."""
    borrower = make_user(Role.BORROWER, locale="en", name="Eve\r\nBcc: thief@example.net")
    queue_email(borrower.id, NOW)

    report = dispatch_due(at(NOW))

    assert report.sent == 1
    received = sink.messages[0]
    assert received.message["Bcc"] is None
    assert received.envelope_to == [borrower.email]
    [address] = received.message["To"].addresses
    assert address.addr_spec == borrower.email


def test_server_down_fails_with_backoff_then_dead_after_max_attempts(app_ctx, make_user):
    """Nothing listening: failed with last_error and backoff per try, dead after the last."""
    app_ctx.config.update(SMTP_HOST=HOST, SMTP_PORT=free_port(), MESSAGE_MAX_ATTEMPTS=4)
    borrower = make_user(Role.BORROWER, locale="en")
    message = queue_email(borrower.id, NOW)

    now = NOW
    for attempt in (1, 2, 3):
        report = dispatch_due(at(now))
        row = reload(message)
        assert report.failed == 1
        assert (row.status, row.attempts) == (MessageStatus.FAILED, attempt)
        assert "SMTP server unreachable" in (row.last_error or "")
        assert row.not_before == now + retry_delay(attempt)
        assert dispatch_due(at(row.not_before - timedelta(seconds=1))).claimed == 0  # not yet
        now = row.not_before
    report = dispatch_due(at(now))
    row = reload(message)
    assert report.dead == 1
    assert (row.status, row.attempts) == (MessageStatus.DEAD, 4)
    assert dispatch_due(at(now + timedelta(days=1))).claimed == 0  # dead stays dead


def test_an_unresponsive_server_costs_one_timeout_per_batch(app_ctx, make_user):
    """A server that accepts TCP but never greets: the batch fails once, not once per email."""
    with socket.socket() as blackhole:
        blackhole.bind((HOST, 0))
        blackhole.listen(16)  # never accepted: the SMTP greeting never comes
        app_ctx.config.update(SMTP_HOST=HOST, SMTP_PORT=blackhole.getsockname()[1], SMTP_TIMEOUT=1)
        ids = [queue_email(make_user(Role.BORROWER, locale="en").id, NOW).id for _ in range(6)]
        started = time.monotonic()
        report = dispatch_due(at(NOW))
        elapsed = time.monotonic() - started

    assert report.failed == 6
    assert 1 <= elapsed < 4  # one timeout; six would take at least 6 s
    rows = db.session.scalars(select(Message).where(Message.id.in_(ids))).all()
    assert {row.status for row in rows} == {MessageStatus.FAILED}
    assert {row.last_error for row in rows} == {rows[0].last_error}  # the one connect failure


@pytest.mark.parametrize(
    ("refusal", "reply"),
    [("refuse_data", "451 4.3.0 Try again later"), ("refuse_rcpt", "450 4.2.1 Mailbox busy")],
)
def test_a_4xx_reply_is_retried_and_later_sent(sink, make_user, refusal, reply):
    """A temporary refusal (at DATA or RCPT) leaves the message failed; the retry delivers it."""
    borrower = make_user(Role.BORROWER, locale="en")
    message = queue_email(borrower.id, NOW)
    setattr(sink, refusal, reply)

    report = dispatch_due(at(NOW))

    row = reload(message)
    assert report.failed == 1
    assert row.status is MessageStatus.FAILED
    assert reply[:3] in (row.last_error or "")
    assert row.not_before == NOW + retry_delay(1)
    assert sink.messages == []
    setattr(sink, refusal, None)
    assert dispatch_due(at(row.not_before)).sent == 1
    row = reload(message)
    assert (row.status, row.attempts, row.last_error) == (MessageStatus.SENT, 2, None)
    assert len(sink.messages) == 1


def test_a_refused_recipient_is_dead_at_once_and_kept(sink, make_user):
    """550 at RCPT is permanent: dead after one try, the row keeps the reason, no retry."""
    borrower = make_user(Role.BORROWER, locale="en")
    message = queue_email(borrower.id, NOW)
    sink.refuse_rcpt = "550 5.1.1 No such user"

    report = dispatch_due(at(NOW))

    row = reload(message)
    assert report.dead == 1
    assert (row.status, row.attempts) == (MessageStatus.DEAD, 1)
    assert "550" in (row.last_error or "")
    assert "No such user" in (row.last_error or "")
    sink.refuse_rcpt = None
    assert dispatch_due(at(NOW + timedelta(days=1))).claimed == 0
    assert sink.messages == []


def test_a_rejected_message_is_dead_and_the_next_one_still_goes(sink, make_user):
    """554 after DATA kills that message only; the connection serves the next one."""
    rejected = queue_email(make_user(Role.BORROWER, locale="en").id, NOW)
    accepted = queue_email(make_user(Role.BORROWER, locale="en").id, NOW)
    sink.on_data = lambda number: "554 5.7.1 Message rejected" if number == 1 else None

    report = dispatch_due(at(NOW))

    assert (report.dead, report.sent) == (1, 1)
    assert reload(rejected).status is MessageStatus.DEAD
    assert reload(accepted).status is MessageStatus.SENT
    assert sink.message_ids() == [reload(accepted).provider_reference]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 (with the IP in subjectAltName, as TLS checks)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(  # noqa: S603 - fixed arguments, test fixture
        [  # noqa: S607 - openssl from PATH
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],  # fmt: skip
        check=True,
        capture_output=True,
    )
    return cert, key


def _server_tls(certificate) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def test_starttls_with_a_trusted_certificate_and_login(app_ctx, make_user, certificate):
    """With SMTP_STARTTLS and SMTP_CA_FILE the mail goes over TLS and logs in after it."""
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        logins.append((auth_data.login, auth_data.password, session.ssl is not None))
        return AuthResult(success=auth_data.password == b"s3cret", handled=False)

    with running_sink(tls_context=_server_tls(certificate), authenticator=authenticator) as tls:
        app_ctx.config.update(
            SMTP_HOST=HOST,
            SMTP_PORT=tls.port,
            SMTP_STARTTLS=True,
            SMTP_CA_FILE=str(certificate[0]),
            SMTP_USERNAME="settle",
            SMTP_PASSWORD="s3cret",  # noqa: S105 - test credential
        )
        message = queue_email(make_user(Role.BORROWER, locale="en").id, NOW)
        report = dispatch_due(at(NOW))

        assert report.sent == 1
        assert tls.messages[0].tls is True
        assert logins == [(b"settle", b"s3cret", True)]
        assert reload(message).status is MessageStatus.SENT


def test_starttls_refuses_a_certificate_it_cannot_verify(app_ctx, make_user, certificate):
    """Without the CA file the self-signed certificate fails verification: retried, not sent."""
    with running_sink(tls_context=_server_tls(certificate)) as tls:
        app_ctx.config.update(SMTP_HOST=HOST, SMTP_PORT=tls.port, SMTP_STARTTLS=True)
        message = queue_email(make_user(Role.BORROWER, locale="en").id, NOW)
        report = dispatch_due(at(NOW))

        row = reload(message)
        assert report.failed == 1
        assert row.status is MessageStatus.FAILED
        assert "CERTIFICATE_VERIFY_FAILED" in (row.last_error or "")
        assert tls.messages == []


def test_wrong_smtp_password_is_a_retried_failure(app_ctx, make_user, certificate):
    """A refused login fails the message (retried later): it never goes out unauthenticated."""

    def authenticator(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=False, handled=False)  # handled=False: aiosmtpd replies 535

    with running_sink(tls_context=_server_tls(certificate), authenticator=authenticator) as tls:
        app_ctx.config.update(
            SMTP_HOST=HOST,
            SMTP_PORT=tls.port,
            SMTP_STARTTLS=True,
            SMTP_CA_FILE=str(certificate[0]),
            SMTP_USERNAME="settle",
            SMTP_PASSWORD="wrong",  # noqa: S105 - test credential
        )
        message = queue_email(make_user(Role.BORROWER, locale="en").id, NOW)
        report = dispatch_due(at(NOW))

        row = reload(message)
        assert report.failed == 1
        assert "SMTP login refused: 535" in (row.last_error or "")
        assert tls.messages == []


# aiosmtpd cannot see implicit TLS as TLS: the test server requires AUTH without it and warns.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_implicit_tls_sends_over_tls_and_logs_in_after_the_handshake(
    app_ctx, make_user, certificate
):
    """With SMTP_SSL the connection is TLS from the first byte (port 465 style), the server's
    certificate is verified, and the password only crosses the encrypted connection."""
    from aiosmtpd.controller import Controller

    from tests.messaging.channels.conftest import SmtpSink

    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        encrypted = server.transport.get_extra_info("ssl_object") is not None
        logins.append((auth_data.login, encrypted))
        return AuthResult(success=auth_data.password == b"s3cret", handled=False)

    sink = SmtpSink(port=free_port())
    controller = Controller(
        sink,
        hostname=HOST,
        port=sink.port,
        ssl_context=_server_tls(certificate),
        authenticator=authenticator,
        auth_required=True,
        # aiosmtpd only counts STARTTLS as TLS; the authenticator checks the socket itself.
        auth_require_tls=False,
    )
    controller.start()
    try:
        app_ctx.config.update(
            SMTP_HOST=HOST,
            SMTP_PORT=sink.port,
            SMTP_SSL=True,
            SMTP_CA_FILE=str(certificate[0]),
            SMTP_USERNAME="settle",
            SMTP_PASSWORD="s3cret",  # noqa: S105 - test credential
        )
        message = queue_email(make_user(Role.BORROWER, locale="en").id, NOW)
        report = dispatch_due(at(NOW))
    finally:
        controller.stop()

    assert report.sent == 1, reload(message).last_error
    assert len(sink.messages) == 1
    assert logins == [(b"settle", True)]
    assert reload(message).status is MessageStatus.SENT
