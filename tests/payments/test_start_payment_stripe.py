"""start_payment through the real StripeGateway, against the local Stripe-compatible server."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.payments.gateway import ProcessorUnavailable
from portal.payments.models import (
    AttemptStatus,
    IssueKind,
    PaymentAttempt,
    PaymentIssue,
    PayOption,
    Provider,
)
from portal.payments.services import start_payment
from tests.payments.conftest import PAY_NOW as NOW
from tests.payments.conftest import PAY_TODAY as TODAY


def _start(borrower_id, loan_id, amount=221_000, option=PayOption.OVERDUE):
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


def test_one_intent_at_stripe_with_the_key_and_metadata(app_ctx, fake_stripe, overdue_loan):
    """Two starts: one create request, carrying the attempt's key, amount and metadata."""
    borrower, loan_id = overdue_loan
    first = _start(borrower.id, loan_id)
    second = _start(borrower.id, loan_id)
    assert first.id == second.id
    assert first.provider is Provider.STRIPE
    [create] = fake_stripe.requests_to("POST", "/v1/payment_intents")
    assert create.idempotency_key == first.idempotency_key
    assert create.metadata == {
        "attempt_id": str(first.id),
        "loan_id": str(loan_id),
        "borrower_id": str(borrower.id),
    }
    assert create.params["amount"] == "221000"
    assert create.params["currency"] == "cny"
    assert first.intent_id == fake_stripe.intent(first.intent_id)["id"]
    assert first.client_secret


@pytest.mark.parametrize("outage", ["down", "slow", "error"])
def test_stripe_unreachable_slow_or_failing_leaves_nothing_and_alerts_staff(
    app_ctx, fake_stripe, overdue_loan, outage
):
    """Refused connection, a timeout, a 500: ProcessorUnavailable, no attempt, one issue."""
    borrower, loan_id = overdue_loan
    if outage == "down":
        fake_stripe.stop()
    elif outage == "slow":
        fake_stripe.slow(2)
    else:
        fake_stripe.fail_with(500)
    with pytest.raises(ProcessorUnavailable):
        _start(borrower.id, loan_id)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(PaymentAttempt)) == 0
    assert db.session.scalars(select(PaymentIssue.kind)).all() == [IssueKind.PROCESSOR_UNREACHABLE]


def test_a_sandbox_attempt_is_not_reused_once_stripe_is_on(app, app_ctx, overdue_loan, fake_stripe):
    """A live sandbox attempt from before the keys were set is canceled; Stripe makes a new one."""
    borrower, loan_id = overdue_loan
    keys = {k: app.config[k] for k in ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY")}
    app.config.update(STRIPE_SECRET_KEY="", STRIPE_PUBLISHABLE_KEY="")
    sandbox = _start(borrower.id, loan_id)
    assert sandbox.provider is Provider.SANDBOX
    app.config.update(keys)
    stripe = _start(borrower.id, loan_id)
    assert stripe.id != sandbox.id
    assert stripe.provider is Provider.STRIPE
    assert db.session.get(PaymentAttempt, sandbox.id).status is AttemptStatus.CANCELED
