"""Connection settings the embedded SQLite database needs to behave like a real one.

SQLite leaves foreign keys unenforced unless each connection asks, and by default syncs the
disk on every commit through a rollback journal. Write-ahead logging with ``synchronous=NORMAL``
keeps commits durable against a crash of the portal (not of the whole machine, which production
on PostgreSQL covers) while letting readers run beside the one writer; the busy timeout makes a
second writer wait instead of failing at once.
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy import Engine, event

from portal.extensions import db

SQLITE_PRAGMAS = (
    "PRAGMA foreign_keys=ON",
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=5000",
)


def _apply_sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def configure_engines(app: Flask) -> None:
    """Apply the SQLite settings to every SQLite engine of ``app`` (PostgreSQL needs none)."""
    with app.app_context():
        engines: list[Engine] = list(db.engines.values())
    for engine in engines:
        if engine.dialect.name == "sqlite" and not event.contains(
            engine, "connect", _apply_sqlite_pragmas
        ):
            event.listen(engine, "connect", _apply_sqlite_pragmas)
