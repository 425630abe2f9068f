"""A fake Twilio Messages API on 127.0.0.1 for the SMS adapter tests.

It checks what the real one checks first (the account path and HTTP Basic auth), records every
request it accepted for inspection, answers 201 with a fresh ``SM...`` sid, and can be told to
answer the next requests with an error, a broken body, or only after a delay.

Below the fake: the templates and helpers the SMS tests share.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


@dataclass
class Reply:
    status: int
    body: str
    delay: float = 0.0


@dataclass
class RecordedRequest:
    path: str
    form: dict[str, str]
    sid: str | None  # the sid we answered with, when we accepted it


@dataclass
class FakeTwilio:
    account_sid: str = "AC00000000000000000000000000000001"
    auth_token: str = "fake-auth-token"
    requests: list[RecordedRequest] = field(default_factory=list)
    _replies: list[Reply] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def messages_path(self) -> str:
        return f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"

    def fail_next(self, status: int, code: int | None = None, message: str = "", times: int = 1):
        """Answer the next ``times`` sends with ``status`` and a Twilio-style error body."""
        body = json.dumps({"code": code, "message": message, "status": status})
        with self._lock:
            self._replies.extend(Reply(status, body) for _ in range(times))

    def reply_next(self, status: int, body: str, *, delay: float = 0.0) -> None:
        """Answer the next send with exactly this, optionally after ``delay`` seconds."""
        with self._lock:
            self._replies.append(Reply(status, body, delay))

    def start(self) -> FakeTwilio:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length).decode()
                status, body, delay, record = fake._answer(
                    self.path, self.headers.get("Authorization"), raw
                )
                if record is not None:  # before answering: the client may look right after
                    with fake._lock:
                        fake.requests.append(record)
                time.sleep(delay)
                payload = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format, *args) -> None:
                pass  # keep test output clean

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.handle_error = lambda request, address: None  # type: ignore[method-assign]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _answer(self, path: str, authorization: str | None, raw: str):
        """(status, body, delay, record): the auth and path checks come before any reply."""
        expected = (
            "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        )
        if path != self.messages_path:
            return 404, json.dumps({"code": 20404, "message": "not found"}), 0.0, None
        if authorization != expected:
            return 401, json.dumps({"code": 20003, "message": "Authenticate"}), 0.0, None
        form = {name: values[0] for name, values in parse_qs(raw, keep_blank_values=True).items()}
        with self._lock:
            reply = self._replies.pop(0) if self._replies else None
        if reply is not None:
            return reply.status, reply.body, reply.delay, RecordedRequest(path, form, None)
        sid = "SM" + uuid.uuid4().hex
        body = json.dumps({"sid": sid, "status": "queued", "to": form.get("To")})
        return 201, body, 0.0, RecordedRequest(path, form, sid)


# Test data shared by the SMS tests: short templates whose rendering the tests can predict.

REMINDER_VARIABLES = {
    "loan_reference": "LN-00042",
    "due_date": "2026-12-15",
    "amount_due": "¥1,234.00",
}
RECEIPT_VARIABLES = {
    "loan_reference": "LN-00042",
    "amount_paid": "¥500.00",
    "paid_at": "2026-11-30",
    "outstanding": "¥734.00",
}
SMS_TEMPLATES = {
    ("pre_due_reminder", "zh_CN"): (
        "{{ borrower_name }}您好，借款{{ loan_reference }}将于{{ due_date }}到期，"
        "应还{{ amount_due }}。"
    ),
    ("pre_due_reminder", "en"): (
        "Hi {{ borrower_name }}, {{ amount_due }} on loan {{ loan_reference }} "
        "is due on {{ due_date }}."
    ),
    ("payment_receipt", "zh_CN"): (
        "已收到您于{{ paid_at }}为借款{{ loan_reference }}支付的{{ amount_paid }}，"
        "剩余待还{{ outstanding }}。"
    ),
    ("payment_receipt", "en"): (
        "We received {{ amount_paid }} for loan {{ loan_reference }} on {{ paid_at }}. "
        "Left to pay: {{ outstanding }}."
    ),
}


def install_sms_templates(now) -> None:
    """Save the SMS templates above (call inside an app context; commits)."""
    from portal.auth.models import Channel
    from portal.extensions import db
    from portal.messaging.templates import save_version

    for (purpose_code, locale), body in SMS_TEMPLATES.items():
        save_version(
            purpose_code=purpose_code,
            channel=Channel.SMS,
            locale=locale,
            subject="",
            body_text=body,
            body_html=None,
            actor_id=None,
            now=now,
        )
    db.session.commit()


def give_phone(borrower_id: int, phone: str | None) -> None:
    """Set a borrower's phone (call inside an app context; commits)."""
    from portal.auth.models import BorrowerProfile
    from portal.extensions import db

    db.session.get_one(BorrowerProfile, borrower_id).phone = phone
    db.session.commit()
