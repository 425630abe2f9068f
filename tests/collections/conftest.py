"""Test helper: cases count days past due to the latest run, so tests that build cases by hand
record the run they stand for."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from portal.collections.models import CollectionRun
from portal.extensions import db


def record_run(as_of: date) -> None:
    """A finished collections run for ``as_of`` (once; flushes)."""
    if db.session.scalar(select(CollectionRun.id).where(CollectionRun.as_of == as_of)):
        return
    db.session.add(
        CollectionRun(
            as_of=as_of,
            status="finished",
            strategy_version=0,
            started_at=datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC),
            report={},
        )
    )
    db.session.flush()
