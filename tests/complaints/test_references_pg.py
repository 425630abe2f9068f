"""Concurrent filings on PostgreSQL: the counter row lock gives distinct references, even for a
year's first two complaints (the insert race)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from portal.auth.models import Role
from portal.complaints.models import Complaint, ComplaintCategory
from portal.extensions import db
from tests.collections.conftest import NOW
from tests.complaints.conftest import World, file

pytestmark = pytest.mark.postgres


def _file_together(app, worlds: list[World]) -> None:
    barrier = threading.Barrier(len(worlds))

    def one(world: World) -> str:
        with app.app_context():
            barrier.wait()
            complaint = file(world, ComplaintCategory.OTHER, loan=False)
            reference = complaint.reference
            db.session.commit()
            return reference

    with ThreadPoolExecutor(len(worlds)) as pool:
        list(pool.map(one, worlds))


@pytest.mark.parametrize("rounds", [1, 3])
def test_concurrent_filings_get_distinct_references(app, make_user, rounds):
    """Four borrowers filing at the same instant, in one or more rounds: all references differ
    and are consecutive."""
    worlds = [World(make_user(Role.BORROWER).id, 0, 0, 0, 0, 0, 0) for _ in range(4)]
    for _ in range(rounds):
        _file_together(app, worlds)
    with app.app_context():
        references = sorted(db.session.scalars(select(Complaint.reference)))
    assert references == [f"CMP-2026-{n:06d}" for n in range(1, 4 * rounds + 1)]
    assert NOW.year == 2026
