"""The demo's repayment plan: one drawn borrower, a month or two behind, who enrolled in a
six-month plan and paid its down payment, so collectors see a case "in plan" and the borrower a
plan on the dashboard. The demo borrower (borrower@demo.test) is left to enroll herself."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from portal.auth.models import User
from portal.collections.models import CaseStatus, CollectionCase
from portal.domain import DomainError
from portal.extensions import db
from portal.loans.models import PaymentMethod
from portal.loans.services import loan_of_borrower, record_payment
from portal.payments import effects
from portal.plans.activation import after_down_payment, grant_waiver
from portal.plans.enrollment import enroll, loan_offers, term_key
from portal.plans.models import RepaymentPlan
from portal.plans.policy import Term
from portal.plans.schedule import Frequency

SIX_MONTHS = term_key(Term(installments=6, frequency=Frequency.MONTHLY))
DEMO_ADDRESS = "192.0.2.10"  # documentation range: the demo's own "borrower's phone"
DEMO_AGENT = "Mozilla/5.0 (Linux; Android 14) Settle demo"


def seed_plan(today: date, now: datetime) -> bool:
    """Enroll the first drawn borrower (by case id) in the 31-60 bucket whose loan is offered
    the six-month plan, and book its down payment as the processor's webhook would. Nothing if
    the demo has a plan already. Returns whether one was made. Flushes."""
    if db.session.scalar(select(RepaymentPlan.id).limit(1)) is not None:
        return False
    candidates = db.session.execute(
        select(CollectionCase.loan_id, CollectionCase.borrower_id, User.email)
        .join(User, User.id == CollectionCase.borrower_id)
        .where(CollectionCase.status == CaseStatus.OPEN, CollectionCase.bucket == "31-60")
        .order_by(CollectionCase.id)
    ).all()
    for loan_id, borrower_id, email in candidates:
        if email == "borrower@demo.test":
            continue
        loan = loan_of_borrower(borrower_id, loan_id)
        offers, _ = loan_offers(loan, today=today, now=now)
        offer = next((o for o in offers.offers if term_key(o.term) == SIX_MONTHS), None)
        if offer is None:
            continue
        try:
            with db.session.begin_nested():
                _enroll_and_pay(loan_id, borrower_id, offer.balance_minor, today, now)
        except DomainError:
            continue
        return True
    return False


def _enroll_and_pay(
    loan_id: int, borrower_id: int, balance: int, today: date, now: datetime
) -> None:
    plan = enroll(
        borrower_id=borrower_id,
        loan_id=loan_id,
        term=SIX_MONTHS,
        quoted_balance_minor=balance,
        consent=True,
        today=today,
        now=now,
        ip_address=DEMO_ADDRESS,
        user_agent=DEMO_AGENT,
    )
    if plan.down_payment_minor:
        grant_waiver(plan, now=now)
        payment = record_payment(
            loan_id=loan_id,
            amount_minor=plan.down_payment_minor,
            currency=plan.currency,
            method=PaymentMethod.ALIPAY,
            received_at=now,
            external_reference=f"demo-plan-{plan.id}",
        )
        after_down_payment(plan, now=now)
        effects.after_booking(payment, now=now)
