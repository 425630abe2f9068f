"""Plan fixtures: an admin client, what a browser sends for the plan policy form, and the
borrower's steps from an overdue loan to an active plan."""

from __future__ import annotations

from datetime import timedelta

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
