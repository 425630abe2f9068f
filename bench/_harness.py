"""Shared plumbing for the scripts in bench/: a throwaway database, the app, the output.

Not a benchmark itself. Each script imports it as a sibling module (``python bench/x.py`` puts
bench/ first on ``sys.path``). House rules implemented here: progress and the human summary go
to stderr, the result goes to stdout as exactly one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import NullPool

from portal import create_app

# The only PostgreSQL databases a benchmark may wipe (it drops their public schema), plus the
# one named in BENCH_THROWAWAY_DATABASE (say, a database of your own made for benchmarks).
THROWAWAY_PG_DATABASES = ("test", "bench", "test_bench")
MAX_COUNT = 1_000_000  # upper bound for every "how many" option: every loop stays bounded


class BenchError(RuntimeError):
    """The benchmark cannot run as asked, or the code under test gave a wrong answer."""


def progress(message: str) -> None:
    """One line of progress on stderr (stdout is reserved for the JSON result)."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def count_option(low: int = 1, high: int = MAX_COUNT) -> Callable[[str], int]:
    """An argparse type: an integer in [low, high], so no option makes a loop unbounded."""

    def parse(value: str) -> int:
        number = int(value)
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
        return number

    return parse


def add_database_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        default=None,
        help="SQLAlchemy URL of a throwaway database (default: a fresh SQLite file in a temp "
        f"dir). PostgreSQL: only a database named {' or '.join(THROWAWAY_PG_DATABASES)} "
        "or $BENCH_THROWAWAY_DATABASE, whose public schema is dropped and recreated.",
    )


def prepare_database(database_url: str | None, temp_dir: str) -> URL:
    """Resolve ``database_url`` to an empty database and return its URL; refuse anything else."""
    if database_url is None:
        return make_url("sqlite:///" + os.path.join(temp_dir, "bench.db"))
    try:
        url = make_url(database_url)
    except ArgumentError as error:
        raise BenchError(f"not a database URL: {database_url!r}") from error
    if url.get_backend_name() == "sqlite":
        _check_fresh_sqlite(url)
        return url
    if url.get_backend_name() == "postgresql":
        if url.drivername == "postgresql":  # same choice as portal.config: psycopg 3
            url = url.set(drivername="postgresql+psycopg")
        _reset_postgres(url)
        return url
    raise BenchError(f"unsupported database {url.get_backend_name()!r}: use sqlite or postgresql")


def _check_fresh_sqlite(url: URL) -> None:
    path = url.database
    if not path or path == ":memory:":
        raise BenchError("give a SQLite file path, e.g. sqlite:////tmp/bench.db")
    if os.path.exists(path) and os.path.getsize(path) > 0:
        raise BenchError(f"{path} already exists and is not empty: refusing to reuse it")


def _reset_postgres(url: URL) -> None:
    """Empty a throwaway database (one of THROWAWAY_PG_DATABASES); refuse any other."""
    also = os.environ.get("BENCH_THROWAWAY_DATABASE")
    if url.database not in THROWAWAY_PG_DATABASES and not (also and url.database == also):
        raise BenchError(
            f"refusing to wipe PostgreSQL database {url.database!r}: the benchmark recreates "
            f"the public schema, which it only does in a database named "
            f"{' or '.join(THROWAWAY_PG_DATABASES)}"
        )
    progress(f"resetting schema public in {url.render_as_string(hide_password=True)}")
    engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


def migrated_app(url: URL) -> Flask:
    """The portal on ``url``, configured like the tests, with the schema migrated to head.

    Settings that would otherwise come from the environment (Redis, rate-limit storage,
    PORTAL_ENV) are pinned so that the figures do not depend on the shell they ran in.
    """
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url.render_as_string(hide_password=False),
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "SECRET_KEY": "bench-not-secret",
            "PORTAL_ENV": "development",
            "REDIS_URL": None,
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    started = time.perf_counter()
    with app.app_context():
        upgrade()
    progress(f"migrated in {time.perf_counter() - started:.2f} s")
    return app


def dispose(app: Flask) -> None:
    """Close pooled connections (before the temp dir holding a SQLite file is removed)."""
    from portal.extensions import db

    with app.app_context():
        db.engine.dispose()


def environment(url: URL) -> dict[str, Any]:
    """What the figures depend on besides the code: database, versions, CPU count."""
    return {
        "database": url.render_as_string(hide_password=True),
        "dialect": url.get_backend_name(),
        "python": platform.python_version(),
        "sqlalchemy": sqlalchemy.__version__,
        "cpus": os.cpu_count(),
    }


def rate(count: int, seconds: float) -> float:
    """Operations per second (the clock never reads zero for a whole bounded loop)."""
    return round(count / max(seconds, 1e-9), 1)


def ratio(measured: float, baseline: float) -> float:
    """measured / baseline: how many times slower than the baseline (1.0 = no overhead)."""
    return round(measured / max(baseline, 1e-9), 2)


def emit(result: dict[str, Any], summary: str) -> None:
    """The result as ONE JSON line on stdout, then the human summary on stderr."""
    sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")
    sys.stdout.flush()
    print(summary, file=sys.stderr, flush=True)


def run_main(body: Callable[[], int]) -> int:
    """Run a benchmark's body; a BenchError becomes a one-line message and exit status 2."""
    try:
        return body()
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2


@contextmanager
def slowest_statements(engine: Engine, top: int = 8) -> Iterator[list[dict[str, Any]]]:
    """The ``top`` statements by total time while the block runs (each SQL text's first 90
    characters, its calls and seconds), filled in when the block ends: where a run's time went."""
    totals: dict[str, list[float]] = {}
    started: list[float] = []

    def before(*_args: Any) -> None:
        started.append(time.perf_counter())

    def after(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        key = " ".join(statement.split())[:90]
        entry = totals.setdefault(key, [0, 0.0])
        entry[0] += 1
        entry[1] += time.perf_counter() - started.pop()

    result: list[dict[str, Any]] = []
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield result
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
        ranked = sorted(totals.items(), key=lambda item: -item[1][1])[:top]
        result += [
            {"sql": sql, "calls": int(calls), "seconds": round(seconds, 3)}
            for sql, (calls, seconds) in ranked
        ]
