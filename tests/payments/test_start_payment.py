"""start_payment: one live attempt per borrower, loan and amount, and one intent for it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.loans.services import LoanNotFound
from portal.payments.gateway import ProcessorUnavailable
from portal.payments.models import (
    AttemptStatus,
    IssueKind,
    PaymentAttempt,
    PaymentIssue,
    PayOption,
    Provider,
)
from portal.payments.quotes import AmountRefused, QuoteChanged
from portal.payments.services import (
    AttemptNotFound,
    State,
    attempt_status,
    mark_confirming,
    start_payment,
)
from tests.payments.conftest import PAY_NOW as NOW
from tests.payments.conftest import PAY_TODAY as TODAY


def _start(borrower_id, loan_id, option=PayOption.OVERDUE, amount=221_000):
    attempt = start_payment(
        borrower_id=borrower_id,
        loan_id=loan_id,
        option=option,
        amount_minor=amount,
        today=TODAY,
        now=NOW,
    )
    db.session.commit()
    return attempt


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_start_creates_an_attempt_with_its_intent(app_ctx, overdue_loan, gateway):
    """The attempt holds the intent; the create call carried the key and the metadata."""
    borrower, loan_id = overdue_loan
    attempt = _start(borrower.id, loan_id)
    assert attempt.intent_id.startswith("pi_sandbox_")
    assert attempt.client_secret.startswith(attempt.intent_id + "_secret_")
    assert (attempt.status, attempt.provider) == (AttemptStatus.OPEN, Provider.SANDBOX)
    assert (attempt.amount_minor, attempt.currency) == (221_000, "CNY")
    [call] = gateway.calls
    assert call["idempotency_key"] == attempt.idempotency_key
    assert call["metadata"] == {
        "attempt_id": str(attempt.id),
        "loan_id": str(loan_id),
        "borrower_id": str(borrower.id),
    }
    assert (call["amount_minor"], call["currency"]) == (221_000, "CNY")


def test_double_submit_returns_the_same_attempt_and_calls_the_processor_once(
    app_ctx, overdue_loan, gateway
):
    """A double click, a reload, a second tab: the same attempt, one create call."""
    borrower, loan_id = overdue_loan
    first = _start(borrower.id, loan_id)
    again = _start(borrower.id, loan_id)
    other_option_same_amount = _start(borrower.id, loan_id, PayOption.OTHER, 221_000)
    assert first.id == again.id == other_option_same_amount.id
    assert len(gateway.calls) == 1
    assert _count(PaymentAttempt) == 1


def test_another_amount_is_another_attempt(app_ctx, overdue_loan, gateway):
    borrower, loan_id = overdue_loan
    first = _start(borrower.id, loan_id)
    second = _start(borrower.id, loan_id, PayOption.OTHER, 10_000)
    assert first.id != second.id
    assert first.idempotency_key != second.idempotency_key
    assert len(gateway.calls) == 2


def test_a_closed_attempt_does_not_block_a_new_one(app_ctx, overdue_loan, gateway):
    """Once the attempt is canceled, the same amount starts a new attempt and intent."""
    borrower, loan_id = overdue_loan
    first = _start(borrower.id, loan_id)
    first.status = AttemptStatus.CANCELED
    db.session.commit()
    assert _start(borrower.id, loan_id).id != first.id
    assert len(gateway.calls) == 2


def test_someone_elses_loan_is_not_found(app_ctx, overdue_loan, make_user, gateway):
    """Another borrower's loan: LoanNotFound, no attempt, no processor call."""
    _borrower, loan_id = overdue_loan
    stranger = make_user()
    with pytest.raises(LoanNotFound):
        _start(stranger.id, loan_id)
    assert gateway.calls == []
    assert _count(PaymentAttempt) == 0


@pytest.mark.parametrize(
    ("option", "amount", "error"),
    [
        (PayOption.OTHER, 0, AmountRefused),
        (PayOption.OTHER, -1, AmountRefused),
        (PayOption.OTHER, 323_001, AmountRefused),
        (PayOption.OVERDUE, 1, QuoteChanged),
        (PayOption.PAYOFF, 10**15, QuoteChanged),
    ],
)
def test_an_amount_not_payable_today_is_refused(
    app_ctx, overdue_loan, gateway, option, amount, error
):
    borrower, loan_id = overdue_loan
    with pytest.raises(error):
        _start(borrower.id, loan_id, option, amount)
    assert gateway.calls == []
    assert _count(PaymentAttempt) == 0


def test_processor_down_leaves_nothing_half_made_and_tells_staff(app_ctx, overdue_loan, gateway):
    """A timeout: ProcessorUnavailable, no attempt left, an issue for staff; the retry works."""
    borrower, loan_id = overdue_loan
    gateway.fail = True
    with pytest.raises(ProcessorUnavailable):
        _start(borrower.id, loan_id)
    db.session.rollback()
    assert _count(PaymentAttempt) == 0
    [issue] = db.session.scalars(select(PaymentIssue)).all()
    assert issue.kind is IssueKind.PROCESSOR_UNREACHABLE
    assert f"loan {loan_id}" in issue.detail

    gateway.fail = False
    attempt = _start(borrower.id, loan_id)
    assert attempt.intent_id is not None
    assert _count(PaymentAttempt) == 1


def test_an_attempt_left_without_intent_gets_one_with_its_own_key(app_ctx, overdue_loan, gateway):
    """An attempt row without an intent (a crash mid-way) is completed, not duplicated."""
    borrower, loan_id = overdue_loan
    orphan = PaymentAttempt(
        borrower_id=borrower.id,
        loan_id=loan_id,
        option=PayOption.OVERDUE,
        amount_minor=221_000,
        currency="CNY",
        provider=Provider.SANDBOX,
        idempotency_key="attempt-orphan",
    )
    db.session.add(orphan)
    db.session.commit()
    attempt = _start(borrower.id, loan_id)
    assert attempt.id == orphan.id
    assert attempt.intent_id is not None
    assert [call["idempotency_key"] for call in gateway.calls] == ["attempt-orphan"]


def test_status_follows_the_attempt_and_is_the_borrowers_own(
    app_ctx, overdue_loan, make_user, gateway
):
    """Waiting, processing after confirming, declined with its code, paid; others: not found."""
    borrower, loan_id = overdue_loan
    stranger = make_user()
    attempt = _start(borrower.id, loan_id)

    def state_after(change=None):
        if change:
            change()
        db.session.commit()
        return attempt_status(borrower.id, attempt.id).state

    assert state_after() == State.WAITING
    assert state_after(lambda: mark_confirming(borrower.id, attempt.id, now=NOW)) == (
        State.PROCESSING
    )
    assert state_after(lambda: setattr(attempt, "failure_code", "insufficient_funds")) == (
        State.DECLINED
    )
    # The next try clears the old decline and waits again.
    assert state_after(lambda: mark_confirming(borrower.id, attempt.id, now=NOW)) == (
        State.PROCESSING
    )
    assert state_after(lambda: setattr(attempt, "status", AttemptStatus.SUCCEEDED)) == State.PAID
    with pytest.raises(AttemptNotFound):
        attempt_status(stranger.id, attempt.id)
