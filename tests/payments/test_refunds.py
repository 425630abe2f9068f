"""Admin refunds: the math, the reversal of the allocation, and a processor that fails."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.auth.models import Role
from portal.extensions import db
from portal.loans.models import Component, Installment, Loan, LoanStatus, Payment
from portal.payments.gateway import ProcessorUnavailable
from portal.payments.models import (
    IssueKind,
    PaymentIssue,
    Refund,
    RefundReversal,
    RefundStatus,
)
from portal.payments.refunds import (
    PaymentNotFound,
    RefundDeclined,
    RefundRefused,
    RefundTooLarge,
    refund_payment,
)
from portal.payments.reversal import refundable_minor
from tests.payments.conftest import NOW, ProcessorRefused


@pytest.fixture
def loan_id(make_user, make_loan):
    return make_loan(make_user().id)


@pytest.fixture
def admin_id(make_user):
    return make_user(Role.ADMIN).id


def _installments(loan_id):
    return list(
        db.session.scalars(
            select(Installment)
            .where(Installment.loan_id == loan_id)
            .order_by(Installment.sequence)
            .execution_options(populate_existing=True)
        )
    )


def _paid(loan_id):
    return [
        (i.principal_paid, i.interest_paid, i.fee_paid, i.late_charge_paid)
        for i in _installments(loan_id)
    ]


def _refund(payment_id, amount, admin_id, reason="Borrower paid twice"):
    return refund_payment(
        payment_id=payment_id,
        amount_minor=amount,
        reason=reason,
        actor_id=admin_id,
        now=NOW,
        ip_address="203.0.113.9",
    )


def test_partial_refund_takes_back_the_latest_installments_principal_first(
    app_ctx, loan_id, admin_id, book, processor, reversals
):
    """A refund smaller than the payment undoes it backwards: the second installment's
    principal goes first, the first installment stays paid."""
    first, second = _installments(loan_id)[:2]
    payment_id = book(loan_id, first.total_due + 10_000)
    assert _installments(loan_id)[1].total_paid == 10_000
    refund = _refund(payment_id, 4_000, admin_id)
    db.session.commit()
    assert refund.status is RefundStatus.SUCCEEDED
    assert refund.reversed_at == NOW
    first, second = _installments(loan_id)[:2]
    assert first.outstanding == 0
    assert second.total_paid == 6_000
    # 10,000 had paid its 5,000 interest, then 5,000 principal: 4,000 principal goes back.
    assert (second.interest_paid, second.principal_paid) == (5_000, 1_000)
    assert [(r.installment_id, r.component, r.amount_minor) for r in refund.reversals] == [
        (second.id, Component.PRINCIPAL, 4_000)
    ]
    assert refundable_minor(db.session.get(Payment, payment_id)) == first.total_due + 6_000
    assert processor.calls[0]["amount_minor"] == 4_000
    assert processor.calls[0]["idempotency_key"] == refund.idempotency_key
    assert processor.calls[0]["intent_id"].startswith("pi_test")
    assert reversals == [(loan_id, NOW)]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "payment.refunded"))
    assert event.actor_id == admin_id
    assert event.details["amount_minor"] == 4_000
    assert event.details["reason"] == "Borrower paid twice"


def test_reversal_undoes_the_waterfall_in_reverse(
    app_ctx, loan_id, admin_id, book, processor, reversals
):
    """Within an installment principal goes back before interest and fees."""
    first = _installments(loan_id)[0]
    payment_id = book(loan_id, first.total_due)
    refund = _refund(payment_id, first.principal_due + 1, admin_id)
    components = [(r.component, r.amount_minor) for r in refund.reversals]
    assert components[0] == (Component.PRINCIPAL, first.principal_due)
    assert components[1] == (Component.INTEREST, 1)
    first = _installments(loan_id)[0]
    assert first.principal_paid == 0
    assert first.interest_paid == first.interest_due - 1
    assert first.fee_paid == first.fee_due


def test_full_refund_restores_the_balance_and_reactivates_a_paid_off_loan(
    app_ctx, loan_id, admin_id, book, processor, reversals
):
    """Refunding a payment that paid the loan off makes it owed and active again."""
    before = _paid(loan_id)
    total = sum(i.total_due for i in _installments(loan_id))
    payment_id = book(loan_id, total)
    assert db.session.get(Loan, loan_id).status is LoanStatus.PAID_OFF
    _refund(payment_id, total, admin_id)
    db.session.commit()
    assert _paid(loan_id) == before
    loan = db.session.execute(
        select(Loan).where(Loan.id == loan_id).execution_options(populate_existing=True)
    ).scalar_one()
    assert loan.status is LoanStatus.ACTIVE
    assert refundable_minor(db.session.get(Payment, payment_id)) == 0
    assert reversals == [(loan_id, NOW)]


def test_refund_larger_than_the_payment_is_refused_before_the_processor(
    app_ctx, loan_id, admin_id, book, processor, reversals
):
    """More than the payment, or more than is left after an earlier refund: a clear error,
    nothing recorded, the processor never asked."""
    payment_id = book(loan_id, 20_000)
    with pytest.raises(RefundTooLarge) as refused:
        _refund(payment_id, 20_001, admin_id)
    assert "200.00 CNY" in str(refused.value.message)
    db.session.rollback()
    _refund(payment_id, 15_000, admin_id)
    db.session.commit()
    with pytest.raises(RefundTooLarge) as refused:
        _refund(payment_id, 5_001, admin_id)
    assert "50.00 CNY" in str(refused.value.message)
    db.session.rollback()
    assert len(processor.calls) == 1
    assert db.session.scalar(select(func.count()).select_from(Refund)) == 1


@pytest.mark.parametrize("amount", [0, -1, -50_000])
def test_refund_of_nothing_or_less_is_refused(app_ctx, loan_id, admin_id, book, processor, amount):
    """Zero and negative amounts never reach the processor."""
    payment_id = book(loan_id, 20_000)
    with pytest.raises(RefundRefused):
        _refund(payment_id, amount, admin_id)
    assert processor.calls == []


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_refund_needs_a_reason_of_sensible_length(
    app_ctx, loan_id, admin_id, book, processor, reason
):
    """No reason, or a novel: refused."""
    payment_id = book(loan_id, 20_000)
    with pytest.raises(RefundRefused):
        _refund(payment_id, 1_000, admin_id, reason=reason)
    assert processor.calls == []


def test_payment_not_taken_by_the_processor_cannot_be_refunded_through_it(
    app_ctx, loan_id, admin_id, book, processor
):
    """A bank transfer booked by staff has no processor reference: refused."""
    payment_id = book(loan_id, 20_000, reference=None)
    with pytest.raises(RefundRefused):
        _refund(payment_id, 1_000, admin_id)
    with pytest.raises(PaymentNotFound):
        _refund(payment_id + 1_000, 1_000, admin_id)
    assert processor.calls == []


def test_overpayment_credit_is_refunded_first(
    app_ctx, loan_id, admin_id, book, processor, reversals
):
    """An overpayment's credit is refunded by admin decision; the installments stay paid."""
    total = sum(i.total_due for i in _installments(loan_id))
    payment_id = book(loan_id, total + 12_345)
    assert db.session.get(Payment, payment_id).unallocated_minor == 12_345
    paid = _paid(loan_id)
    refund = _refund(payment_id, 12_345, admin_id, reason="Overpayment returned")
    db.session.commit()
    assert [(r.installment_id, r.component, r.amount_minor) for r in refund.reversals] == [
        (None, None, 12_345)
    ]
    payment = db.session.execute(
        select(Payment).where(Payment.id == payment_id).execution_options(populate_existing=True)
    ).scalar_one()
    assert payment.unallocated_minor == 0
    assert _paid(loan_id) == paid
    assert db.session.get(Loan, loan_id).status is LoanStatus.PAID_OFF


@pytest.mark.parametrize(
    ("mode", "error"),
    [
        ("unreachable", ProcessorUnavailable),
        ("refused", ProcessorRefused),
        ("failed", RefundDeclined),
    ],
)
def test_processor_failure_books_nothing_and_keeps_the_failed_refund(
    app_ctx, loan_id, admin_id, book, processor, reversals, mode, error
):
    """Unreachable, refusing or declining: the refund row stays failed, nothing is reversed."""
    payment_id = book(loan_id, 20_000)
    paid = _paid(loan_id)
    processor.mode = mode
    with pytest.raises(error):
        _refund(payment_id, 5_000, admin_id)
    db.session.commit()  # what the route does: the failed attempt is on record
    refund = db.session.scalar(select(Refund))
    assert refund.status is RefundStatus.FAILED
    assert refund.reversed_at is None
    assert refund.idempotency_key == processor.calls[0]["idempotency_key"]
    assert _paid(loan_id) == paid
    assert db.session.scalar(select(func.count()).select_from(RefundReversal)) == 0
    assert reversals == []
    issues = db.session.scalars(select(PaymentIssue)).all()
    assert [i.kind for i in issues] == (
        [IssueKind.PROCESSOR_UNREACHABLE] if mode == "unreachable" else []
    )
    assert refundable_minor(db.session.get(Payment, payment_id)) == 20_000


def test_pending_refund_holds_the_money_but_reverses_nothing_yet(
    app_ctx, loan_id, admin_id, book, processor, reversals
):
    """A refund the processor has not finished counts against what is refundable only."""
    payment_id = book(loan_id, 20_000)
    paid = _paid(loan_id)
    processor.mode = "pending"
    refund = _refund(payment_id, 5_000, admin_id)
    db.session.commit()
    assert refund.status is RefundStatus.PENDING
    assert refund.reversed_at is None
    assert _paid(loan_id) == paid
    assert refundable_minor(db.session.get(Payment, payment_id)) == 15_000
    assert reversals == []
