"""Reference numbers: ``CMP-<year>-<6 digits>``, one counter row per year.

The counter is raised with ``UPDATE ... RETURNING``, which takes the row's lock: two filings at
the same moment queue up and get consecutive numbers. The year's first filing inserts the row in
a savepoint; if another transaction inserted it first, the insert fails and the update runs.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from portal.complaints.models import ComplaintCounter
from portal.extensions import db

PREFIX = "CMP"


def format_reference(year: int, number: int) -> str:
    return f"{PREFIX}-{year}-{number:06d}"


def next_reference(year: int) -> str:
    """The next free reference of ``year`` (in the caller's transaction: flushes only)."""
    number = _raise_counter(year)
    if number is None:
        try:
            with db.session.begin_nested():
                db.session.add(ComplaintCounter(year=year, last_number=1))
            number = 1
        except IntegrityError:
            number = _raise_counter(year)
    if number is None:  # pragma: no cover - the row exists once the insert failed
        raise RuntimeError(f"complaint counter of {year} missing")
    return format_reference(year, number)


def _raise_counter(year: int) -> int | None:
    return db.session.execute(
        update(ComplaintCounter)
        .where(ComplaintCounter.year == year)
        .values(last_number=ComplaintCounter.last_number + 1)
        .returning(ComplaintCounter.last_number)
    ).scalar_one_or_none()
