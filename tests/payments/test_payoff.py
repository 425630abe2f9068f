"""Paying off: the preview settles every installment, and the booking leaves nothing owed."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.loans.models import AdjustmentKind, Component, LedgerAdjustment, Loan, LoanStatus
from portal.payments.models import PaymentAttempt, PayOption, Provider
from portal.payments.quotes import quote
from portal.payments.sandbox_checkout import TEST_CARDS, intent_event
from portal.payments.services import start_payment
from tests.payments.conftest import PAY_NOW as NOW
from tests.payments.conftest import PAY_TODAY as TODAY


def test_payoff_preview_settles_every_installment(app_ctx, overdue_loan):
    """The payoff's allocation pays each installment's remaining amount; the last one's
    unearned interest is not in it."""
    loan = db.session.get(Loan, overdue_loan[1])
    offer = quote(loan, TODAY)
    preview = offer.preview(offer.payoff)
    assert sum(line.total for line in preview.lines) == offer.payoff
    assert preview.credit == 0
    last = preview.lines[-1]
    assert last.installment.sequence == 6
    assert dict(last.parts) == {Component.PRINCIPAL.value: 50_000}


def test_booking_the_payoff_pays_the_loan_off(app_ctx, overdue_loan, gateway):
    """The payoff, booked through the event processing: a PAYOFF_REBATE for the unearned
    interest, every installment paid, the loan paid off, no credit left."""
    from portal.payments.events import process_event

    borrower, loan_id = overdue_loan
    payoff = quote(db.session.get(Loan, loan_id), TODAY).payoff
    attempt = start_payment(
        borrower_id=borrower.id,
        loan_id=loan_id,
        option=PayOption.PAYOFF,
        amount_minor=payoff,
        today=TODAY,
        now=NOW,
    )
    db.session.commit()
    event = intent_event(attempt, TEST_CARDS["4242424242424242"], now=NOW)
    assert process_event(event, provider=Provider.SANDBOX, now=NOW) == "booked"
    db.session.commit()
    loan = db.session.get(Loan, loan_id)
    assert loan.status is LoanStatus.PAID_OFF
    assert all(i.outstanding == 0 for i in loan.installments)
    payment = db.session.get(PaymentAttempt, attempt.id).payment
    assert (payment.amount_minor, payment.unallocated_minor) == (payoff, 0)
    [rebate] = db.session.scalars(select(LedgerAdjustment)).all()
    assert (rebate.kind, rebate.component) == (AdjustmentKind.PAYOFF_REBATE, Component.INTEREST)


def test_a_smaller_payment_gets_no_rebate(app_ctx, overdue_loan, gateway):
    """Below the payoff, the waterfall alone allocates it and nothing is waived."""
    from portal.payments.events import process_event

    borrower, loan_id = overdue_loan
    attempt = start_payment(
        borrower_id=borrower.id,
        loan_id=loan_id,
        option=PayOption.OTHER,
        amount_minor=10_000,
        today=TODAY,
        now=NOW,
    )
    db.session.commit()
    process_event(
        intent_event(attempt, TEST_CARDS["4242424242424242"], now=NOW),
        provider=Provider.SANDBOX,
        now=NOW,
    )
    db.session.commit()
    assert db.session.scalars(select(LedgerAdjustment)).all() == []
