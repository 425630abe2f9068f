"""Two clicks at once on "open a complaint" for one conversation (the agent and an admin, on
PostgreSQL): one complaint, the other click told which."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from portal.complaints.from_chat import AlreadyAComplaint
from portal.complaints.models import Complaint
from portal.extensions import db
from tests.complaints.test_from_chat import _chat, _file

pytestmark = pytest.mark.postgres


def test_two_concurrent_clicks_make_one_complaint(app, world):
    with app.app_context():
        conversation_id = _chat(world)
    barrier = threading.Barrier(2)

    def click(by: int) -> str:
        with app.app_context():
            barrier.wait()
            try:
                reference = _file(world, conversation_id, by=by).reference
                db.session.commit()
                return reference
            except AlreadyAComplaint as refused:
                db.session.rollback()
                return f"refused {refused.reference}"

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(click, [world.agent_id, world.admin_id]))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Complaint)) == 1
        reference = db.session.scalar(select(Complaint.reference))
    assert outcomes == [reference, f"refused {reference}"]
