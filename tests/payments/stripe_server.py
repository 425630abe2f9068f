"""A local Stripe-compatible HTTP server for tests (a helper module, not a test module).

The official ``stripe`` library talks to it through ``STRIPE_API_BASE``. It answers Stripe-shaped
JSON for the calls the portal makes (PaymentIntents: create, retrieve, cancel, list; refunds:
create), honours ``Idempotency-Key`` the way Stripe does (the same key replays the first answer;
the same key with other parameters is an ``idempotency_error``), and records every request.

Failure modes: ``slow(seconds)`` (answers after a delay), ``fail_with(status)`` (500, 429, 401...
answered Stripe-shaped), ``stop()`` (nothing listens: connection refused).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

SECRET_KEY = "sk_test_fake_0123456789abcdefghij"
PUBLISHABLE_KEY = "pk_test_fake_0123456789abcdefghij"
WEBHOOK_SECRET = "whsec_fake_0123456789abcdefghijklmnop"

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    402: "card_error",
    404: "invalid_request_error",
    429: "rate_limit_error",
}


@dataclass
class RecordedRequest:
    """One request as the server saw it: form or query parameters flat, as Stripe encodes them
    (``metadata[loan_id]``, ``automatic_payment_methods[enabled]``), header names lower-case."""

    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")

    @property
    def metadata(self) -> dict[str, str]:
        return {
            key[len("metadata[") : -1]: value
            for key, value in self.params.items()
            if key.startswith("metadata[") and key.endswith("]")
        }


@dataclass
class _Failure:
    status: int
    times: int | None  # None: until cleared


@dataclass
class FakeStripeState:
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    idempotent: dict[str, tuple[str, dict[str, str], int, dict]] = field(default_factory=dict)
    failure: _Failure | None = None
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))


class FakeStripe:
    """The server and the handles tests use: start it, point the app at ``base``, then look at
    ``requests`` or change how it answers."""

    def __init__(self) -> None:
        self.state = FakeStripeState()
        self.secret_key = SECRET_KEY
        self.publishable_key = PUBLISHABLE_KEY
        self.webhook_secret = WEBHOOK_SECRET
        handler = type("Handler", (_Handler,), {"state": self.state})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        self.running = True

    # --- how it answers ----------------------------------------------------------------------

    def stop(self) -> None:
        """Stop listening: from now on every call is refused at connect."""
        if self.running:
            self._server.shutdown()
            self._server.server_close()
            self.running = False

    def slow(self, seconds: float) -> None:
        """Answer every request ``seconds`` late (0: on time again)."""
        self.state.delay = seconds

    def fail_with(self, status: int | None, *, times: int | None = None) -> None:
        """Answer the next ``times`` requests (all, if None) with a Stripe-shaped error of
        HTTP ``status`` (500, 429, 401...); ``None`` answers normally again."""
        self.state.failure = None if status is None else _Failure(status, times)

    # --- what it holds and saw ---------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        return list(self.state.requests)

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        """Requests with this method whose path starts with ``path``."""
        return [r for r in self.requests if r.method == method and r.path.startswith(path)]

    def intent(self, intent_id: str) -> dict[str, Any]:
        return self.state.intents[intent_id]

    def add_intent(
        self,
        *,
        amount: int,
        currency: str = "cny",
        status: str = "succeeded",
        created: int | None = None,
        metadata: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """A PaymentIntent made on Stripe's side (not through the portal), in Stripe's units."""
        with self.state.lock:
            intent = _new_intent(self.state, amount, currency.lower(), metadata or {}, "")
            intent["created"] = created if created is not None else intent["created"]
            self.state.intents[intent["id"]] = intent
        if status == "succeeded":
            return self.succeed(intent["id"])
        intent["status"] = status
        return intent

    def succeed(self, intent_id: str, *, amount_received: int | None = None) -> dict[str, Any]:
        """Mark an intent succeeded as if the borrower had paid (optionally another amount)."""
        with self.state.lock:
            intent = self.state.intents[intent_id]
            intent["status"] = "succeeded"
            intent["amount_received"] = (
                intent["amount"] if amount_received is None else amount_received
            )
            intent["latest_charge"] = f"ch_fake_{intent_id.removeprefix('pi_fake_')}"
            return intent

    # --- webhooks ----------------------------------------------------------------------------

    def event(
        self, type_: str, obj: dict[str, Any], *, id: str | None = None, created: int | None = None
    ) -> dict[str, Any]:
        """A Stripe-shaped event about ``obj`` (a copy of it, as Stripe sends)."""
        number = next(self.state.ids)
        return {
            "id": id or f"evt_fake_{number:06d}",
            "object": "event",
            "type": type_,
            "created": created if created is not None else int(time.time()),
            "livemode": False,
            "api_version": "2025-01-01",
            "data": {"object": json.loads(json.dumps(obj))},
        }

    def signed(
        self, event: dict[str, Any], *, timestamp: int | None = None, secret: str | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """The body and headers Stripe would POST for ``event``, signed with the webhook secret
        (or ``secret``, to forge one) at ``timestamp`` (default now; old ones are expired)."""
        payload = json.dumps(event).encode()
        stamp = int(time.time()) if timestamp is None else timestamp
        return payload, {
            "Stripe-Signature": signature_header(payload, secret or self.webhook_secret, stamp),
            "Content-Type": "application/json",
        }


def signature_header(payload: bytes, secret: str, timestamp: int) -> str:
    """``t=..,v1=..``: HMAC-SHA256 of ``"{t}.{payload}"`` keyed with the whole secret."""
    signed_text = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed_text, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _new_intent(
    state: FakeStripeState, amount: int, currency: str, metadata: dict, description: str
) -> dict[str, Any]:
    number = next(state.ids)
    intent_id = f"pi_fake_{number:06d}"
    return {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_received": 0,
        "currency": currency,
        "status": "requires_payment_method",
        "client_secret": f"{intent_id}_secret_{number:08d}",
        "metadata": metadata,
        "description": description or None,
        "automatic_payment_methods": {"enabled": True},
        "created": int(time.time()),
        "latest_charge": None,
        "livemode": False,
    }


def _nested(params: dict[str, str], prefix: str) -> dict[str, str]:
    start = f"{prefix}["
    return {k[len(start) : -1]: v for k, v in params.items() if k.startswith(start)}


class _Handler(BaseHTTPRequestHandler):
    state: FakeStripeState
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass  # quiet test output

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        params = dict(parse_qsl(url.query if method == "GET" else body, keep_blank_values=True))
        headers = {name.lower(): value for name, value in self.headers.items()}
        state = self.state
        state.requests.append(RecordedRequest(method, url.path, params, headers))
        if state.delay:
            time.sleep(state.delay)
        failure = state.failure
        if failure is not None:
            if failure.times is not None:
                failure.times -= 1
                if failure.times <= 0:
                    state.failure = None
            self._send(*_error_body(failure.status, "simulated", "Simulated failure."))
            return
        if headers.get("authorization") != f"Bearer {SECRET_KEY}":
            self._send(*_error_body(401, "api_key_invalid", "Invalid API Key provided."))
            return
        key = headers.get("idempotency-key")
        if method == "POST" and key:
            self._idempotent(key, url.path, params)
            return
        status, answer = self._route(method, url.path, params)
        self._send(status, answer)

    def _idempotent(self, key: str, path: str, params: dict[str, str]) -> None:
        with self.state.lock:
            seen = self.state.idempotent.get(key)
        if seen is not None:
            seen_path, seen_params, status, answer = seen
            if (seen_path, seen_params) != (path, params):
                message = "Keys for idempotent requests can only be used with the same parameters."
                self._send(400, {"error": {"type": "idempotency_error", "message": message}})
                return
            self._send(status, answer, replayed=True)
            return
        status, answer = self._route("POST", path, params)
        with self.state.lock:
            self.state.idempotent.setdefault(key, (path, params, status, answer))
        self._send(status, answer)

    def _route(self, method: str, path: str, params: dict[str, str]) -> tuple[int, dict]:
        parts = path.strip("/").split("/")
        if parts[:2] == ["v1", "payment_intents"]:
            if method == "POST" and len(parts) == 2:
                return self._create_intent(params)
            if method == "GET" and len(parts) == 2:
                return self._list_intents(params)
            if len(parts) >= 3 and parts[2] not in self.state.intents:
                return _error_body(404, "resource_missing", f"No such payment_intent: '{parts[2]}'")
            if method == "GET" and len(parts) == 3:
                return 200, self.state.intents[parts[2]]
            if method == "POST" and len(parts) == 4 and parts[3] == "cancel":
                return self._cancel(parts[2])
        if parts == ["v1", "refunds"] and method == "POST":
            return self._refund(params)
        return _error_body(404, "resource_missing", f"Unrecognized request URL ({path}).")

    def _create_intent(self, params: dict[str, str]) -> tuple[int, dict]:
        try:
            amount = int(params["amount"])
            currency = params["currency"]
        except (KeyError, ValueError):
            return _error_body(400, "parameter_missing", "Missing amount or currency.")
        if currency != currency.lower() or len(currency) != 3:
            return _error_body(
                400, "invalid_currency", f"Invalid currency: {currency}.", "currency"
            )
        if amount < 1:
            return _error_body(400, "amount_too_small", "Amount must be at least 1.", "amount")
        with self.state.lock:
            intent = _new_intent(
                self.state,
                amount,
                currency,
                _nested(params, "metadata"),
                params.get("description", ""),
            )
            self.state.intents[intent["id"]] = intent
        return 200, intent

    def _list_intents(self, params: dict[str, str]) -> tuple[int, dict]:
        limit = int(params.get("limit", "10"))
        gte = int(params.get("created[gte]", "0"))
        with self.state.lock:
            rows = sorted(
                (i for i in self.state.intents.values() if i["created"] >= gte),
                # Stripe lists the newest first; ids (zero-padded, increasing) break ties.
                key=lambda i: (i["created"], i["id"]),
                reverse=True,
            )
        after = params.get("starting_after")
        if after:
            ids = [i["id"] for i in rows]
            rows = rows[ids.index(after) + 1 :] if after in ids else []
        page = rows[:limit]
        return 200, {
            "object": "list",
            "url": "/v1/payment_intents",
            "has_more": len(rows) > limit,
            "data": page,
        }

    def _cancel(self, intent_id: str) -> tuple[int, dict]:
        intent = self.state.intents[intent_id]
        if intent["status"] in ("succeeded", "canceled"):
            return _error_body(
                400,
                "payment_intent_unexpected_state",
                f"You cannot cancel this PaymentIntent because it has a status of "
                f"{intent['status']}.",
            )
        intent["status"] = "canceled"
        return 200, intent

    def _refund(self, params: dict[str, str]) -> tuple[int, dict]:
        intent = self.state.intents.get(params.get("payment_intent", ""))
        if intent is None or intent["status"] != "succeeded":
            return _error_body(400, "charge_not_found", "This PaymentIntent has no charge.")
        refunded = sum(
            r["amount"] for r in self.state.refunds.values() if r["payment_intent"] == intent["id"]
        )
        left = intent["amount_received"] - refunded
        amount = int(params.get("amount", left))
        if amount > left:
            return _error_body(
                400,
                "amount_too_large",
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
                "amount",
            )
        refund_id = f"re_fake_{next(self.state.ids):06d}"
        refund = {
            "id": refund_id,
            "object": "refund",
            "amount": amount,
            "currency": intent["currency"],
            "payment_intent": intent["id"],
            "charge": intent["latest_charge"],
            "status": "succeeded",
            "reason": params.get("reason"),
            "metadata": _nested(params, "metadata"),
        }
        self.state.refunds[refund_id] = refund
        return 200, refund

    def _send(self, status: int, answer: dict, *, replayed: bool = False) -> None:
        data = json.dumps(answer).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Request-Id", f"req_fake_{next(self.state.ids):06d}")
            if replayed:
                self.send_header("Idempotent-Replayed", "true")
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
            pass


def _error_body(status: int, code: str, message: str, param: str | None = None):
    error = {"type": _ERROR_TYPES.get(status, "api_error"), "code": code, "message": message}
    if param:
        error["param"] = param
    return status, {"error": error}
