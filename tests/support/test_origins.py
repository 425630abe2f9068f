"""Over real HTTP: a python-socketio client connects to ``/support`` only with a signed-in
session and from an allowed origin (the portal's own, or those SOCKETIO_ALLOWED_ORIGINS lists)."""

from __future__ import annotations

import re
import socket
import threading

import pytest
import requests
import socketio
from werkzeug.serving import make_server

from portal.support.broadcast import NAMESPACE


@pytest.fixture
def served(app):
    """The portal on a free local port (threaded Werkzeug, as the browser tests use)."""
    app.config["TESTING"] = False
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = make_server("127.0.0.1", port, app, threaded=True)
    server.daemon_threads = False
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _session_cookie(base: str, email: str, password: str) -> str:
    http = requests.Session()
    page = http.get(f"{base}/login", timeout=10).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = http.post(
        f"{base}/login",
        data={"email": email, "password": password, "csrf_token": token},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302
    return "; ".join(f"{name}={value}" for name, value in http.cookies.items())


def _connects(base: str, headers: dict[str, str]) -> bool:
    client = socketio.Client(reconnection=False)
    try:
        client.connect(
            base, namespaces=[NAMESPACE], headers=headers, transports=["polling"], wait_timeout=5
        )
    except socketio.exceptions.ConnectionError:
        return False
    connected = NAMESPACE in client.namespaces
    client.disconnect()
    return connected


def test_only_a_signed_in_client_from_an_allowed_origin_connects(app, served, inbox):
    """Same origin with a session: in. No session, or a foreign origin: refused."""
    cookie = _session_cookie(served, inbox.borrower.email, inbox.borrower.password)
    user_agent = {"User-Agent": requests.utils.default_user_agent()}  # as at sign-in
    assert _connects(served, {**user_agent, "Cookie": cookie, "Origin": served})
    assert not _connects(served, {**user_agent, "Origin": served})
    assert not _connects(served, {**user_agent, "Cookie": cookie, "Origin": "https://evil.example"})
