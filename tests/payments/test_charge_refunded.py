"""charge.refunded: refunds made at the processor are recorded and reversed once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.auth.models import Role
from portal.extensions import db
from portal.loans.models import Installment, Payment
from portal.payments.models import Refund, RefundStatus
from portal.payments.refunds import on_charge_refunded, refund_payment
from portal.payments.reversal import refundable_minor
from tests.payments.conftest import NOW


@pytest.fixture
def booked(app_ctx, make_user, make_loan, book):
    loan_id = make_loan(make_user().id)
    payment_id = book(loan_id, 30_000)
    return loan_id, payment_id, db.session.get(Payment, payment_id).external_reference


def _charge(intent_id, *refunds, amount_refunded=None, listed=True):
    charge = {
        "id": "ch_test0001",
        "object": "charge",
        "payment_intent": intent_id,
        "amount_refunded": amount_refunded
        if amount_refunded is not None
        else sum(r["amount"] for r in refunds),
    }
    if listed:
        charge["refunds"] = {"object": "list", "data": list(refunds)}
    return charge


def _total_paid(loan_id):
    return sum(
        i.total_paid
        for i in db.session.scalars(
            select(Installment)
            .where(Installment.loan_id == loan_id)
            .execution_options(populate_existing=True)
        )
    )


def _refunds():
    return db.session.scalars(select(Refund).order_by(Refund.id)).all()


def test_dashboard_refund_delivered_twice_is_recorded_and_reversed_once(booked, reversals):
    """The same charge.refunded twice: one refund row, the ledger lowered once."""
    loan_id, payment_id, intent = booked
    charge = _charge(intent, {"id": "re_dash1", "amount": 7_000, "status": "succeeded"})
    assert on_charge_refunded(charge, NOW) == "refund_recorded"
    db.session.commit()
    assert on_charge_refunded(charge, NOW) == "refund_already_recorded"
    db.session.commit()
    [refund] = _refunds()
    assert (refund.processor_refund_id, refund.amount_minor) == ("re_dash1", 7_000)
    assert refund.status is RefundStatus.SUCCEEDED
    assert refund.requested_by is None
    assert _total_paid(loan_id) == 23_000
    assert reversals == [(loan_id, NOW)]


def test_a_second_dashboard_refund_adds_only_itself(booked, reversals):
    """A later event lists both refunds: only the new one is recorded."""
    loan_id, _payment_id, intent = booked
    first = {"id": "re_a", "amount": 5_000, "status": "succeeded"}
    on_charge_refunded(_charge(intent, first), NOW)
    second = {"id": "re_b", "amount": 2_000, "status": "succeeded"}
    assert on_charge_refunded(_charge(intent, second, first), NOW) == "refund_recorded"
    assert [r.processor_refund_id for r in _refunds()] == ["re_a", "re_b"]
    assert _total_paid(loan_id) == 23_000


def test_the_admins_own_refund_is_not_recorded_again(booked, processor, reversals, make_user):
    """The event for a refund made in the portal finds it by its processor id."""
    loan_id, payment_id, intent = booked
    admin = make_user(Role.ADMIN)
    refund_payment(
        payment_id=payment_id, amount_minor=4_000, reason="Goodwill", actor_id=admin.id, now=NOW
    )
    db.session.commit()
    charge = _charge(intent, {"id": "re_0001", "amount": 4_000, "status": "succeeded"})
    assert on_charge_refunded(charge, NOW) == "refund_already_recorded"
    assert len(_refunds()) == 1
    assert _total_paid(loan_id) == 26_000


def test_a_pending_portal_refund_is_reversed_when_the_processor_confirms(
    booked, processor, reversals, make_user
):
    """Pending at the create call; the charge.refunded event completes and reverses it."""
    loan_id, payment_id, intent = booked
    processor.mode = "pending"
    refund_payment(
        payment_id=payment_id,
        amount_minor=4_000,
        reason="Goodwill",
        actor_id=make_user(Role.ADMIN).id,
        now=NOW,
    )
    db.session.commit()
    assert _total_paid(loan_id) == 30_000
    charge = _charge(intent, {"id": "re_0001", "amount": 4_000, "status": "succeeded"})
    assert on_charge_refunded(charge, NOW) == "refund_recorded"
    assert on_charge_refunded(charge, NOW) == "refund_already_recorded"
    [refund] = _refunds()
    assert refund.status is RefundStatus.SUCCEEDED
    assert _total_paid(loan_id) == 26_000
    assert reversals == [(loan_id, NOW)]


def test_charge_without_a_refund_list_records_the_difference_once(booked, reversals):
    """Newer API versions list no refunds: amount_refunded beyond what is known, once."""
    loan_id, payment_id, intent = booked
    charge = _charge(intent, amount_refunded=6_000, listed=False)
    assert on_charge_refunded(charge, NOW) == "refund_recorded"
    assert on_charge_refunded(charge, NOW) == "refund_already_recorded"
    assert _total_paid(loan_id) == 24_000
    assert refundable_minor(db.session.get(Payment, payment_id)) == 24_000


def test_pending_and_failed_refunds_at_the_processor_change_nothing(booked, reversals):
    """Only succeeded refunds leave the ledger."""
    loan_id, _payment_id, intent = booked
    charge = _charge(
        intent,
        {"id": "re_p", "amount": 1_000, "status": "pending"},
        {"id": "re_f", "amount": 1_000, "status": "failed"},
    )
    assert on_charge_refunded(charge, NOW) == "refund_already_recorded"
    assert db.session.scalar(select(func.count()).select_from(Refund)) == 0
    assert _total_paid(loan_id) == 30_000


def test_refund_of_a_payment_we_never_booked_is_reported(app_ctx, reversals):
    """An unknown PaymentIntent: nothing recorded, the outcome says why."""
    charge = _charge("pi_unknown", {"id": "re_x", "amount": 1_000, "status": "succeeded"})
    assert on_charge_refunded(charge, NOW) == "unknown_payment"
    assert db.session.scalar(select(func.count()).select_from(Refund)) == 0
    assert reversals == []


def test_a_pending_portal_refund_that_fails_at_the_processor_frees_the_money(
    booked, processor, reversals, make_user
):
    """Pending, then reported failed: nothing reversed, the amount is refundable again."""
    loan_id, payment_id, intent = booked
    processor.mode = "pending"
    refund_payment(
        payment_id=payment_id,
        amount_minor=4_000,
        reason="Goodwill",
        actor_id=make_user(Role.ADMIN).id,
        now=NOW,
    )
    charge = _charge(intent, {"id": "re_0001", "amount": 4_000, "status": "failed"})
    charge["amount_refunded"] = 0
    assert on_charge_refunded(charge, NOW) == "refund_recorded"
    [refund] = _refunds()
    assert refund.status is RefundStatus.FAILED
    assert refund.reversed_at is None
    assert refundable_minor(db.session.get(Payment, payment_id)) == 30_000
    assert _total_paid(loan_id) == 30_000
    assert reversals == []
