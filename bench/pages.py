"""Benchmark: pages under the production server vs. a bare Flask app in the same server.

What is measured: the portal as ``make run`` serves it (``gunicorn -k gthread -w 1 --threads
100 --no-control-socket wsgi:app``, no Redis, so the in-process worker runs beside the
requests) on a fresh database migrated and seeded with the demo through the ``flask`` CLI (``db
upgrade``, ``messaging install-templates``, ``demo seed``, ``collections run``). A load tool
keeps ``--connections`` keep-alive connections busy over loopback for ``--seconds`` per page:

- ``/``: the borrower dashboard, signed in as borrower@demo.test;
- ``/notices/<id>``: the first notice in that borrower's list;
- ``/staff/collections/queue``: the work queue, signed in as collector@demo.test;
- ``/staff/collections/cases/<id>``: the first case in that queue.

Baseline, in the same run and the same server configuration: a bare Flask app whose one view
returns "Hello" (no database, no session, no template). That is the most the server and the
machine can serve, so ``ratio_to_bare`` (page req/s / bare req/s) is the share of it a page
gets. Each page is checked before it is timed (200, not a redirect to the sign-in page, and the
content it must show) and every timed response must be 200 (``not_ok`` counts the others; any
makes the run fail). Besides requests/s and latency, the JSON gives the server's CPU time per
request (user + system time of the gunicorn process group over the timed run, from /proc):
unlike requests/s it barely moves when other work shares the machine (``cpu_times_bare``: how
many times the bare app's). The session cookie and a fixed User-Agent come from a real sign-in
through the form (CSRF token included): Flask-Login's strong session protection ties a session
to its User-Agent.

Load tool: wrk (``apt-get install -y wrk``) when installed, else an asyncio client in Python,
which takes CPU from the server and reads lower; ``--load-tool`` chooses. Everything the bench
starts (two gunicorn process groups) is stopped when it ends.

Run: ``.venv/bin/python bench/pages.py [--database-url URL] [--seconds N] [--connections N]``.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from typing import Any

from _harness import (
    BenchError,
    add_database_option,
    count_option,
    emit,
    environment,
    prepare_database,
    progress,
    run_main,
)
from _load import WRK_INSTALL_HINT, LoadResult, run_python, run_wrk, wrk_available
from _servers import Server, SignedIn, get, sign_in, start_gunicorn
from sqlalchemy.engine import URL

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMO_PASSWORD = "demo1234"  # noqa: S105 - published in the README, demo only
BORROWER, COLLECTOR = "borrower@demo.test", "collector@demo.test"
SEED_TODAY = "2026-11-28"  # fixed: the same portfolio on every run
BARE_APP = 'from flask import Flask\n\napp = Flask(__name__)\n\n\n@app.get("/")\ndef hello():\n    return "Hello"\n'  # noqa: E501
NOTICE_LINK = re.compile(r'href="(/notices/\d+)"')
CASE_LINK = re.compile(r'href="(/staff/collections/cases/\d+)"')


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_database_option(parser)
    parser.add_argument("--seconds", type=count_option(1, 120), default=10, help="per page")
    parser.add_argument(
        "--warmup-seconds", type=count_option(0, 60), default=2, help="untimed load per page"
    )
    parser.add_argument("--connections", type=count_option(1, 1000), default=32)
    parser.add_argument(
        "--borrowers", type=count_option(0, 5000), default=50, help="demo seed --borrowers"
    )
    parser.add_argument("--load-tool", choices=("auto", "wrk", "python"), default="auto")
    return parser.parse_args(argv)


def flask_cli(env: dict[str, str], *args: str) -> None:
    """Run ``flask --app wsgi ARGS`` in a subprocess, as an operator would."""
    command = [sys.executable, "-m", "flask", "--app", "wsgi", *args]
    started = time.perf_counter()
    completed = subprocess.run(  # noqa: S603 - fixed argv, no shell
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    if completed.returncode != 0:
        raise BenchError(f"flask {' '.join(args)} failed: {completed.stderr[-2000:]}")
    progress(f"flask {' '.join(args)} in {time.perf_counter() - started:.1f} s")


def portal_env(url: URL) -> dict[str, str]:
    """The environment of a fresh shell running `make run`, on the benchmark's database."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url.render_as_string(hide_password=False),
        SECRET_KEY=secrets.token_hex(32),
        PORTAL_ENV="development",
        REDIS_URL="",
    )
    for name in ("IN_PROCESS_WORKER", "SESSION_COOKIE_SECURE", "FLASK_DEBUG"):
        env.pop(name, None)
    return env


def seed_demo(env: dict[str, str], borrowers: int) -> None:
    flask_cli(env, "db", "upgrade")
    flask_cli(env, "messaging", "install-templates")
    flask_cli(env, "demo", "seed", "--today", SEED_TODAY, "--borrowers", str(borrowers))
    flask_cli(env, "collections", "run", "--as-of", SEED_TODAY)


def first_link(server: Server, who: SignedIn, path: str, pattern: re.Pattern[str]) -> str:
    match = pattern.search(get(server, path, who)[1])
    if match is None:
        raise BenchError(f"{path} links to no page matching {pattern.pattern}")
    return match.group(1)


def pages_to_time(server: Server) -> list[tuple[str, str, SignedIn, str]]:
    """(name, path, session, text the page must show) for each page, found through the UI."""
    borrower = sign_in(server, BORROWER, DEMO_PASSWORD)
    collector = sign_in(server, COLLECTOR, DEMO_PASSWORD)
    notice = first_link(server, borrower, "/notices/", NOTICE_LINK)
    case = first_link(server, collector, "/staff/collections/queue", CASE_LINK)
    return [
        ("dashboard", "/", borrower, "LN-DEMO-0001"),
        ("notice", notice, borrower, 'class="breadcrumb-item"'),
        ("queue", "/staff/collections/queue", collector, 'data-testid="case-link"'),
        ("case", case, collector, "js/case-page.js"),
    ]


class Driver:
    """Runs the chosen load tool against one URL."""

    def __init__(self, tool: str, connections: int, temp_dir: str):
        if tool == "auto":
            tool = "wrk" if wrk_available() else "python"
            if tool == "python":
                progress(WRK_INSTALL_HINT + "; using the slower Python client")
        elif tool == "wrk" and not wrk_available():
            raise BenchError(WRK_INSTALL_HINT)
        self.tool, self.connections = tool, connections
        self.script = os.path.join(temp_dir, "count_not_ok.lua")

    def load(self, url: str, headers: dict[str, str], seconds: int) -> LoadResult:
        if self.tool == "wrk":
            return run_wrk(url, headers, self.connections, seconds, self.script)
        return run_python(url, headers, self.connections, seconds)

    def measure(
        self, server: Server, path: str, headers: dict[str, str], args: argparse.Namespace
    ) -> dict[str, Any]:
        """Warm up, then time ``path``; also the server's CPU time per request."""
        if args.warmup_seconds:
            self.load(server.url(path), headers, args.warmup_seconds)
        cpu_before = server.cpu_seconds()
        result = self.load(server.url(path), headers, args.seconds)
        cpu_ms = (server.cpu_seconds() - cpu_before) * 1000 / max(result.requests, 1)
        figures = result.figures() | {"path": path, "server_cpu_ms_per_request": round(cpu_ms, 3)}
        progress(
            f"{path}: {figures['requests_per_s']:.0f} req/s, p50 {result.p50_ms:.1f} ms, "
            f"p99 {result.p99_ms:.1f} ms, server CPU {cpu_ms:.2f} ms per request"
        )
        if result.not_ok:
            raise BenchError(f"{path}: {result.not_ok} of {result.requests} responses not 200")
        return figures


def measure_bare(driver: Driver, args: argparse.Namespace, temp_dir: str) -> dict[str, Any]:
    with open(os.path.join(temp_dir, "bare_hello.py"), "w", encoding="utf-8") as module:
        module.write(BARE_APP)
    with start_gunicorn("bare_hello:app", temp_dir, dict(os.environ), "/") as bare:
        status, body = get(bare, "/", None)
        if status != 200 or body != "Hello":
            raise BenchError(f"the bare app answered {status} {body[:80]!r}")
        return driver.measure(bare, "/", {}, args)


def measure_pages(driver: Driver, args: argparse.Namespace, url: URL) -> dict[str, Any]:
    figures = {}
    with start_gunicorn("wsgi:app", ROOT, portal_env(url), "/healthz") as portal:
        for name, path, who, must_show in pages_to_time(portal):
            status, body = get(portal, path, who)
            if status != 200 or must_show not in body:
                raise BenchError(f"{path} answered {status} without {must_show!r}")
            figures[name] = driver.measure(portal, path, who.headers(), args)
    return figures


def summary_of(result: dict[str, Any]) -> str:
    rows = [f"pages on {result['dialect']} with {result['load_tool']}:"]
    bare = result["bare"]
    rows.append(
        f"  bare app   {bare['requests_per_s']:7.0f} req/s  p50 {bare['p50_ms']:7.1f} ms  "
        f"p99 {bare['p99_ms']:7.1f} ms  CPU {bare['server_cpu_ms_per_request']:6.2f} ms/request"
    )
    for name, page in result["pages"].items():
        rows.append(
            f"  {name:<10} {page['requests_per_s']:7.0f} req/s  p50 {page['p50_ms']:7.1f} ms  "
            f"p99 {page['p99_ms']:7.1f} ms  CPU {page['server_cpu_ms_per_request']:6.2f} "
            f"ms/request: {page['ratio_to_bare']:.3f} of the bare app's req/s"
        )
    return "\n".join(rows)


def benchmark(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="settle-bench-") as temp_dir:
        driver = Driver(args.load_tool, args.connections, temp_dir)
        url = prepare_database(args.database_url, temp_dir)
        seed_demo(portal_env(url), args.borrowers)
        bare = measure_bare(driver, args, temp_dir)
        pages = measure_pages(driver, args, url)
    for page in pages.values():
        page["ratio_to_bare"] = round(page["requests_per_s"] / bare["requests_per_s"], 3)
        page["cpu_times_bare"] = round(
            page["server_cpu_ms_per_request"] / max(bare["server_cpu_ms_per_request"], 1e-9), 1
        )
    result = environment(url) | {
        "benchmark": "pages",
        "load_tool": driver.tool,
        "connections": args.connections,
        "seconds_per_page": args.seconds,
        "server": "gunicorn -k gthread -w 1 --threads 100 --no-control-socket",
        "bare": bare,
        "pages": pages,
    }
    emit(result, summary_of(result))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_main(lambda: benchmark(args))


if __name__ == "__main__":
    raise SystemExit(main())
