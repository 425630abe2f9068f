"""Concurrent audit appends on PostgreSQL keep one unbroken chain."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.audit.services import record, verify_chain
from portal.extensions import db

pytestmark = pytest.mark.postgres


def test_parallel_appenders_never_fork_the_chain(app):
    """Eight writers appending at once: sequences 1..N with no gap, chain intact."""

    def writer(worker):
        with app.app_context():
            for n in range(25):
                record("test.append", now=datetime.now(UTC), details={"worker": worker, "n": n})
                db.session.commit()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(writer, range(8)))
    with app.app_context():
        sequences = db.session.scalars(select(AuditEvent.sequence).order_by(AuditEvent.sequence))
        assert list(sequences) == list(range(1, 201))
        result = verify_chain()
        assert result.intact
        assert result.events_checked == 200
