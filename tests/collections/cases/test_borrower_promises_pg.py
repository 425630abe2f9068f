"""Two promise submissions from the portal at once (PostgreSQL, real threads and connections):
the case row lock makes them queue up, and the second is told a promise is pending."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.auth.models import Role, User
from portal.collections.cases.promises import (
    BorrowerPromiseLimits,
    PendingPromiseExists,
    record_borrower_promise,
)
from portal.collections.models import PromiseToPay
from portal.extensions import db
from tests.collections.conftest import NOW, TODAY, make_case

pytestmark = pytest.mark.postgres
HOLD = 0.4


def test_two_submissions_at_once_make_one_promise(app, make_user, make_loan):
    borrower = make_user(Role.BORROWER)
    loan_id = make_loan(borrower.id)
    make_case(app, borrower_id=borrower.id, loan_id=loan_id, assigned_to=None)
    barrier = threading.Barrier(2)

    def submit(days: int) -> str:
        with app.app_context():
            barrier.wait()
            try:
                record_borrower_promise(
                    loan_id,
                    borrower=db.session.get(User, borrower.id),
                    amount_minor=5_000,
                    promised_on=TODAY + timedelta(days=days),
                    now=NOW,
                    limits=BorrowerPromiseLimits(),
                )
                time.sleep(HOLD)
                db.session.commit()
                return "done"
            except PendingPromiseExists:
                db.session.rollback()
                return "PendingPromiseExists"
            finally:
                db.session.remove()

    with ThreadPoolExecutor(2) as pool:
        results = sorted(pool.map(submit, [2, 3]))

    assert results == ["PendingPromiseExists", "done"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PromiseToPay)) == 1
