"""A payment between runs shows on the case page at once: cured, with the reason, and the
overdue notice it made untrue marked "not sent", in the reader's language."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from portal.auth.models import Channel, Role
from portal.collections.models import CollectionCase
from portal.collections.run import run_collections
from portal.extensions import db
from portal.loans.models import PaymentMethod
from portal.loans.services import record_payment
from portal.messaging.models import ContactKind, Message, MessageStatus
from portal.payments.effects import after_booking
from tests.conftest import login, page_text

AS_OF = date(2026, 2, 20)  # the standard loan's first installment (59,000) is 5 days late
NOW = datetime(2026, 2, 20, 2, 0, tzinfo=UTC)


@pytest.fixture
def paid_case(app, make_user, make_loan):
    """A case the run opened, a queued overdue notice, then the arrears paid; the case id."""
    borrower = make_user()
    loan_id = make_loan(borrower.id, disbursed_on=date(2026, 1, 15))
    with app.app_context():
        run_collections(AS_OF, now=NOW, contacts=False)
        db.session.add(
            Message(
                idempotency_key=uuid.uuid4().hex,
                borrower_id=borrower.id,
                loan_id=loan_id,
                purpose="overdue_stage_1",
                kind=ContactKind.COLLECTION,
                channel=Channel.SMS,
                locale="zh_CN",
                status=MessageStatus.QUEUED,
                not_before=NOW,
                created_at=NOW,
            )
        )
        db.session.commit()
        payment = record_payment(
            loan_id=loan_id,
            amount_minor=59_000,
            currency="CNY",
            method=PaymentMethod.CARD,
            received_at=NOW,
        )
        after_booking(payment, now=NOW)
        db.session.commit()
        return db.session.scalar(select(CollectionCase.id).where(CollectionCase.loan_id == loan_id))


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("en", ["Case cured", "arrears paid", "not sent: the loan is no longer overdue"]),
        ("zh_CN", ["未发送：借款已不再逾期"]),
    ],
)
def test_case_page_shows_the_cure_and_the_withdrawn_notice(
    client, make_user, paid_case, locale, words
):
    """The timeline has the 'cured (arrears paid)' transition and the cancelled notice."""
    login(client, make_user(Role.ADMIN, locale=locale))
    text = page_text(client.get(f"/staff/collections/cases/{paid_case}"))
    for expected in words:
        assert expected in text
