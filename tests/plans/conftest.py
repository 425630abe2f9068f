"""Plan fixtures: an admin client, what a browser sends for the plan policy form, and the
borrower's steps from an overdue loan to an active plan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.auth.models import Role
from portal.extensions import db
from portal.plans.models import RepaymentPlan
from portal.plans.policy import DEFAULT_SETTINGS, MAX_TERMS
from portal.timeutil import local_today, utcnow
from tests.conftest import csrf_token, login

POLICY_URL = "/staff/plans/policy"


BALANCE = 324_000  # the 45-days-overdue test loan's whole balance (CN¥3,240.00)


def overdue_loan(make_user, make_loan, *, locale="en", days=45):
    borrower = make_user(locale=locale)
    today = local_today("Asia/Shanghai", utcnow())
    return borrower, make_loan(borrower.id, disbursed_on=today - timedelta(days=days))


def enroll(client, loan_id, *, term="6-monthly", balance=BALANCE, consent=True, **extra):
    url = f"/loans/{loan_id}/plans"
    data = {"csrf_token": csrf_token(client, url), "term": term, "quoted_balance": str(balance)}
    if consent:
        data["consent"] = "y"
    return client.post(f"{url}/enroll", data={**data, **extra})


def plans_of(app, loan_id) -> list[RepaymentPlan]:
    with app.app_context():
        return list(
            db.session.scalars(select(RepaymentPlan).where(RepaymentPlan.loan_id == loan_id))
        )


def pay_down_payment(client, loan_id):
    token = csrf_token(client, f"/loans/{loan_id}/plan")
    response = client.post(f"/loans/{loan_id}/plan/down-payment", data={"csrf_token": token})
    assert response.status_code == 303
    attempt_id = int(response.headers["Location"].rsplit("/", 1)[-1])
    assert response.headers["Location"] == f"/payments/{attempt_id}"
    return attempt_id


def pay_in_sandbox(client, attempt_id: int) -> None:
    """The sandbox checkout paid with the test card that succeeds."""
    checkout = f"/payments/{attempt_id}"
    paid = client.post(
        f"{checkout}/sandbox",
        data={
            "csrf_token": csrf_token(client, checkout),
            "card_number": "4242 4242 4242 4242",
            "expiry": "12/34",
            "cvc": "123",
        },
    )
    assert paid.status_code == 303


def policy_form(token: str, *, base_version: int = 0, **changes) -> dict:
    """The form fields for the default policy with ``changes`` (terms: list of dicts)."""
    values = {**DEFAULT_SETTINGS, **changes}
    data = {"csrf_token": token, "base_version": str(base_version)}
    for name, value in values.items():
        if name != "terms":
            data[name] = str(value)
    for index in range(MAX_TERMS):
        term = values["terms"][index] if index < len(values["terms"]) else None
        for key in ("installments", "frequency", "late_charge_waiver_bps", "interest_waiver_bps"):
            data[f"terms-{index}-{key}"] = "" if term is None else str(term[key])
        if term is None:
            data[f"terms-{index}-frequency"] = "monthly"
    return data


@pytest.fixture
def admin(client, make_user):
    login(client, make_user(Role.ADMIN, locale="en", name="Ada Admin"))
    return client


# --- Plans as services: a loan overdue on TODAY, its case as the daily run leaves it ---------

# 10:00 in Shanghai on Saturday 28 November 2026.
NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
TODAY = date(2026, 11, 28)
# The standard loan disbursed on 15 June: due on the 15th from July to December, so five
# installments are overdue on TODAY (136 days past due) and December's is not yet due.
DISBURSED = date(2026, 6, 15)
LATE_CHARGE = 1_001  # on each of the five overdue installments: 5,005 in all
PLAN_PURPOSES = ("plan_confirmation", "plan_broken", "plan_proposed", "plan_reminder")


def save_policy(**changes) -> None:
    """The plan policy in force: the defaults with ``changes`` (flushes)."""
    from portal.plans.services import save_plan_policy

    save_plan_policy(
        {**DEFAULT_SETTINGS, **changes},
        expected_version=None,
        actor_id=None,
        now=NOW - timedelta(days=30),
        ip_address=None,
    )


@dataclass
class PlanLoan:
    borrower_id: int
    loan_id: int


@pytest.fixture
def plan_loan(app_ctx, make_user, make_loan) -> PlanLoan:
    """A borrower (English) and their loan overdue on TODAY, after the daily run of TODAY
    (late charges accrued, an open case), with the plan notices' templates installed."""
    from portal.collections.run import run_collections
    from portal.loans.models import Installment
    from tests.messaging.conftest import install_defaults

    borrower = make_user(locale="en")
    loan_id = make_loan(borrower.id, disbursed_on=DISBURSED)
    for installment in db.session.scalars(
        select(Installment).where(Installment.loan_id == loan_id, Installment.due_date < TODAY)
    ):
        installment.late_charge_due = LATE_CHARGE  # as the accrual leaves it
    for locale in ("en", "zh_CN"):
        install_defaults(PLAN_PURPOSES + ("overdue_stage_1", "overdue_stage_2"), locale, NOW)
    db.session.commit()
    run_collections(TODAY, now=NOW, contacts=False)
    return PlanLoan(borrower.id, loan_id)


def quoted(plan_loan: PlanLoan, today: date = TODAY) -> int:
    """The restructured balance the offers page shows the borrower today."""
    from portal.loans.models import Loan
    from portal.plans.enrollment import loan_offers

    db.session.expire_all()
    loan = db.session.get_one(Loan, plan_loan.loan_id)
    offers, _ = loan_offers(loan, today=today, now=NOW)
    return offers.offers[0].balance_minor


def consent(plan_loan: PlanLoan, term: str = "6-monthly", **changes):
    """The borrower's consent to ``term`` at today's quote (``changes`` override)."""
    from portal.plans.enrollment import enroll

    values = {
        "borrower_id": plan_loan.borrower_id,
        "loan_id": plan_loan.loan_id,
        "term": term,
        "consent": True,
        "today": TODAY,
        "now": NOW,
        "ip_address": "203.0.113.7",
        "user_agent": "Mozilla/5.0 (test)",
        **changes,
    }
    if "quoted_balance_minor" not in values:
        values["quoted_balance_minor"] = quoted(plan_loan)
    return enroll(**values)


def open_down_payment(plan, *, now=NOW):
    """The sandbox attempt for ``plan``'s down payment, opened as the plan page does. Commits."""
    from portal.loans.models import Loan
    from portal.payments.models import PayOption
    from portal.payments.services import open_attempt

    attempt = open_attempt(
        db.session.get_one(Loan, plan.loan_id),
        option=PayOption.PLAN_DOWN_PAYMENT,
        amount_minor=plan.down_payment_minor,
        now=now,
    )
    plan.down_payment_attempt_id = attempt.id
    db.session.commit()
    return attempt


def confirm_in_sandbox(attempt, *, now=NOW):
    """The borrower pays ``attempt`` with Stripe's test card: the sandbox's event goes through
    the event processor (``process_event``), which books it. Flushes only."""
    from portal.payments.sandbox_checkout import pay_in_sandbox

    pay_in_sandbox(
        borrower_id=attempt.borrower_id,
        attempt_id=attempt.id,
        card_number="4242 4242 4242 4242",
        expiry="12/34",
        cvc="123",
        today=TODAY,
        now=now,
    )
