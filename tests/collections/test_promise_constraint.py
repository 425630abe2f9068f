from datetime import UTC, date, datetime

import pytest
from sqlalchemy.exc import IntegrityError

from portal.collections.models import CaseStatus, CollectionCase, PromiseToPay
from portal.extensions import db

AT = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


def test_database_allows_one_pending_promise_per_case(app_ctx, make_user, make_loan):
    """A second pending promise on a case is refused by the database itself."""
    borrower = make_user()
    loan_id = make_loan(borrower.id)
    case = CollectionCase(
        loan_id=loan_id,
        borrower_id=borrower.id,
        status=CaseStatus.OPEN,
        opened_on=date(2026, 11, 1),
        stage=1,
        stage_entered_on=date(2026, 11, 1),
        bucket="1-30",
        currency="CNY",
        strategy_version=0,
    )
    db.session.add(case)
    db.session.flush()
    for _ in range(2):
        db.session.add(
            PromiseToPay(
                case_id=case.id,
                amount_minor=100,
                currency="CNY",
                promised_on=date(2026, 12, 1),
                made_at=AT,
            )
        )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
