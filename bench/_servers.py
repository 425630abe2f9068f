"""Servers for bench/pages.py: gunicorn in the production configuration, and a signed-in client.

``start_gunicorn`` runs ``gunicorn -k gthread -w 1 --threads 100 --no-control-socket`` (the
`make run` command) on a free loopback port in its own process group, waits until it answers,
and stops the whole group (master and worker) when the ``with`` block ends, whatever happened.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode

from _harness import BenchError, progress

GUNICORN_ARGS = ("-k", "gthread", "-w", "1", "--threads", "100", "--no-control-socket")
USER_AGENT = "settle-bench/1"  # one User-Agent for sign-in and load: strong session protection
STARTUP_SECONDS = 60
SIGN_IN_ATTEMPTS = 10
IDLE_WAIT_SECONDS = 120
CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class Server:
    port: int
    process_group: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by every process of the server's group.

        Unlike requests/s, CPU per request barely moves when other work shares the machine.
        """
        ticks = 0
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:  # the process ended meanwhile
                continue
            if int(fields[2]) == self.process_group:  # pgrp; utime and stime follow
                ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")


@dataclass
class SignedIn:
    cookie: str  # "session=..."

    def headers(self) -> dict[str, str]:
        return {"Cookie": self.cookie, "User-Agent": USER_AGENT}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def start_gunicorn(app: str, cwd: str, env: dict[str, str], ready_path: str) -> Iterator[Server]:
    """Serve ``app`` (module:variable, importable from ``cwd``) until the block ends."""
    server = Server(free_port())
    command = [sys.executable, "-m", "gunicorn", *GUNICORN_ARGS]
    command += ["-b", f"127.0.0.1:{server.port}", "--log-level", "warning", app]
    process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
        command, cwd=cwd, env=env, start_new_session=True
    )
    server.process_group = process.pid  # start_new_session: the master leads its own group
    try:
        _wait_until_ready(server, process, ready_path)
        progress(f"{app} serving on port {server.port} (pid {process.pid})")
        _wait_until_idle(server)
        yield server
    finally:
        _stop(process)


def _wait_until_ready(server: Server, process: subprocess.Popen, path: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"gunicorn exited with status {process.returncode} at start-up")
        with contextlib.suppress(OSError):
            if get(server, path, None)[0] == 200:
                return
        time.sleep(0.2)
    raise BenchError(f"gunicorn did not answer {path} within {STARTUP_SECONDS} s")


def _wait_until_idle(server: Server) -> None:
    """Wait until the server stops using CPU: its start-up work is done.

    The first request starts the portal's in-process worker, whose first pass runs every
    scheduled task (the daily collections run, reminders, dispatch) in one thread. Timed load
    before it ends would starve it of the GIL while it holds SQLite's write lock, and requests
    that write (sign-in, opening a notice) would fail after the busy timeout.
    """
    deadline = time.monotonic() + IDLE_WAIT_SECONDS
    quiet = 0
    before = server.cpu_seconds()
    while time.monotonic() < deadline and quiet < 3:
        time.sleep(0.5)
        now = server.cpu_seconds()
        quiet = quiet + 1 if now - before < 0.05 else 0
        before = now
    if quiet < 3:
        progress(f"server still busy after {IDLE_WAIT_SECONDS} s; measuring anyway")


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM the process group we started (gunicorn master and its worker), then SIGKILL."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def get(server: Server, path: str, who: SignedIn | None) -> tuple[int, str]:
    """GET without following redirects: a 302 to the sign-in page must not look like a page."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    headers = who.headers() if who else {"User-Agent": USER_AGENT}
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def sign_in(server: Server, email: str, password: str) -> SignedIn:
    """Sign in through the form, retrying while the server is busy with its start-up tasks.

    On SQLite the in-process worker's first pass (the daily collections run, reminders) holds
    the one write lock; on a loaded machine a sign-in (which records last_login_at) can wait
    longer than the busy timeout and fail with 500. Nothing is timed yet, so wait and retry.
    """
    for attempt in range(1, SIGN_IN_ATTEMPTS + 1):
        try:
            return _sign_in_once(server, email, password)
        except ServerBusy as busy:
            progress(f"sign-in attempt {attempt}: {busy}; retrying")
            time.sleep(3)
    raise BenchError(f"signing in as {email} failed {SIGN_IN_ATTEMPTS} times")


class ServerBusy(Exception):
    """The server answered 5xx."""


def _sign_in_once(server: Server, email: str, password: str) -> SignedIn:
    """Sign in through the form (CSRF token from the form's page) and keep the session cookie."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request("GET", "/login", headers={"User-Agent": USER_AGENT})
        form_page = connection.getresponse()
        html = form_page.read().decode()
        token = CSRF_FIELD.search(html)
        cookie = _session_cookie(form_page)
        if form_page.status != 200 or token is None or cookie is None:
            raise BenchError(f"GET /login: {form_page.status}, no CSRF token or session cookie")
        body = urlencode({"email": email, "password": password, "csrf_token": token.group(1)})
        headers = {
            "User-Agent": USER_AGENT,
            "Cookie": cookie,
            "Content-Type": "application/x-www-form-urlencoded",
        }
        connection.request("POST", "/login", body=body, headers=headers)
        answer = connection.getresponse()
        answer.read()
        signed_in = _session_cookie(answer)
        if answer.status >= 500:
            raise ServerBusy(f"POST /login answered {answer.status}")
        if answer.status != 302 or signed_in is None:
            raise BenchError(f"signing in as {email} failed: {answer.status}")
        return SignedIn(signed_in)
    finally:
        connection.close()


def _session_cookie(response: http.client.HTTPResponse) -> str | None:
    for header in response.headers.get_all("Set-Cookie") or []:
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        if "session" in cookie:
            return f"session={cookie['session'].value}"
    return None
