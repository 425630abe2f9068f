"""The borrower enrolls from the offers page: consent to versioned terms (stored with address
and browser), a stale offer re-priced, refusals that keep what was typed, the plan page from the
down payment to the plan's end, and only ever the borrower's own loan."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.extensions import db
from portal.loans.models import Installment
from portal.payments.models import PaymentAttempt, PayOption
from portal.plans.models import PlanStatus, RepaymentPlan
from portal.plans.terms import PLAN_TERMS_VERSION
from portal.timeutil import local_today, utcnow
from tests.conftest import csrf_token, login, page_text
from tests.plans.conftest import (
    BALANCE,
    enroll,
    overdue_loan,
    pay_down_payment,
    pay_in_sandbox,
    plans_of,
)


def test_the_offers_page_shows_the_versioned_terms_and_a_consent_form_per_offer(
    client, make_user, make_loan
):
    borrower, loan_id = overdue_loan(make_user, make_loan)
    login(client, borrower)
    response = client.get(f"/loans/{loan_id}/plans")
    html = response.get_data(as_text=True)
    assert f"Plan terms (version {PLAN_TERMS_VERSION})" in page_text(response)
    assert 'name="term" value="6-monthly"' in html
    assert f'name="quoted_balance" value="{BALANCE}"' in html
    assert html.count('name="consent"') == 4
    assert "Choose this plan (down payment CN¥324.00)" in page_text(response)


def test_consent_makes_a_plan_waiting_for_its_down_payment(app, client, make_user, make_loan):
    """The 6-month plan: consent stored with the terms version, address and browser; the
    plan page asks for the 10% down payment."""
    borrower, loan_id = overdue_loan(make_user, make_loan)
    login(client, borrower)
    response = enroll(client, loan_id)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/loans/{loan_id}/plan"
    [plan] = plans_of(app, loan_id)
    assert plan.status is PlanStatus.PENDING
    assert (plan.installment_count, plan.down_payment_minor) == (6, 32_400)
    assert plan.terms_version == PLAN_TERMS_VERSION
    assert plan.consented_by == borrower.id
    assert plan.consent_ip == "127.0.0.1"
    assert plan.consent_user_agent.startswith("Werkzeug/")  # the test client's browser
    page = client.get(f"/loans/{loan_id}/plan")
    assert page.status_code == 200
    text = page_text(page)
    assert "Waiting for the down payment" in text
    assert "Pay the down payment of CN¥324.00" in text
    assert page.get_data(as_text=True).count('data-testid="plan-installment"') == 6
    again = enroll(client, loan_id)  # a double submit: the same plan
    assert again.status_code == 303
    assert len(plans_of(app, loan_id)) == 1


def test_missing_consent_is_refused_and_keeps_the_stated_means(app, client, make_user, make_loan):
    borrower, loan_id = overdue_loan(make_user, make_loan)
    login(client, borrower)
    response = enroll(client, loan_id, consent=False, income="5,000", expenses="3000")
    assert response.status_code == 422
    text = page_text(response)
    assert "To enroll, tick the box to agree to the plan terms." in text
    assert "You can afford about CN¥600.00 a month." in text  # the offers stay sorted
    assert 'value="5,000"' in response.get_data(as_text=True)
    assert plans_of(app, loan_id) == []


def test_a_stale_offer_is_shown_repriced(app, client, make_user, make_loan):
    """The balance changed since the page was shown: 409, the new prices, nothing enrolled."""
    borrower, loan_id = overdue_loan(make_user, make_loan)
    login(client, borrower)
    response = enroll(client, loan_id, balance=BALANCE + 1_000)
    assert response.status_code == 409
    assert "Your balance changed since these plans were shown" in page_text(response)
    assert f'name="quoted_balance" value="{BALANCE}"' in response.get_data(as_text=True)
    assert plans_of(app, loan_id) == []


def test_an_unknown_term_or_a_forged_balance_is_refused(app, client, make_user, make_loan):
    borrower, loan_id = overdue_loan(make_user, make_loan)
    login(client, borrower)
    assert enroll(client, loan_id, term="7-weekly").status_code == 422
    assert enroll(client, loan_id, balance="-5").status_code == 422
    assert plans_of(app, loan_id) == []


def test_enrolling_needs_the_csrf_token(app, client, make_user, make_loan):
    borrower, loan_id = overdue_loan(make_user, make_loan)
    login(client, borrower)
    data = {"term": "6-monthly", "quoted_balance": str(BALANCE), "consent": "y"}
    assert client.post(f"/loans/{loan_id}/plans/enroll", data=data).status_code == 400
    assert plans_of(app, loan_id) == []


def test_another_borrowers_loan_is_not_found(app, client, make_user, make_loan):
    owner, loan_id = overdue_loan(make_user, make_loan)
    login(client, owner)
    assert enroll(client, loan_id).status_code == 303
    other = app.test_client()
    login(other, make_user(locale="en"))
    assert other.get(f"/loans/{loan_id}/plan").status_code == 404
    token = csrf_token(other, "/settings/contact")
    data = {"csrf_token": token, "term": "3-monthly", "quoted_balance": str(BALANCE)}
    assert other.post(f"/loans/{loan_id}/plans/enroll", data=data).status_code == 404
    down = other.post(f"/loans/{loan_id}/plan/down-payment", data={"csrf_token": token})
    assert down.status_code == 404
    assert [p.installment_count for p in plans_of(app, loan_id)] == [6]


def test_no_plan_yet_leads_to_the_offers(client, make_user, make_loan):
    borrower, loan_id = overdue_loan(make_user, make_loan)
    login(client, borrower)
    response = client.get(f"/loans/{loan_id}/plan")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/loans/{loan_id}/plans"


def test_the_down_payment_in_the_sandbox_starts_the_plan(app, client, make_user, make_loan):
    """The down payment opens the checkout (the same attempt twice); paid, the plan is active
    and its page shows the progress, the next payment and each installment's status."""
    borrower, loan_id = overdue_loan(make_user, make_loan)
    login(client, borrower)
    enroll(client, loan_id)
    attempt_id = pay_down_payment(client, loan_id)
    assert pay_down_payment(client, loan_id) == attempt_id
    with app.app_context():
        attempt = db.session.get_one(PaymentAttempt, attempt_id)
        assert (attempt.option, attempt.amount_minor) == (PayOption.PLAN_DOWN_PAYMENT, 32_400)
    [plan] = plans_of(app, loan_id)
    assert plan.down_payment_attempt_id == attempt_id
    pay_in_sandbox(client, attempt_id)
    [plan] = plans_of(app, loan_id)
    assert plan.status is PlanStatus.ACTIVE
    page = client.get(f"/loans/{loan_id}/plan")
    text = page_text(page)
    assert "0 of 6 payments made" in text
    assert "Next payment" in text
    assert page.get_data(as_text=True).count(">Upcoming<") == 6
    with app.app_context():
        first = db.session.scalars(
            select(Installment)
            .where(Installment.plan_id == plan.id)
            .order_by(Installment.sequence)
            .limit(1)
        ).one()
        assert f"Due on {first.due_date:%b} {first.due_date.day}, {first.due_date.year}" in text
    offers = page_text(client.get(f"/loans/{loan_id}/plans"))
    assert "This loan already has an active plan." in offers


def test_an_ended_plan_says_why(app, client, make_user, make_loan):
    borrower, loan_id = overdue_loan(make_user, make_loan)
    login(client, borrower)
    enroll(client, loan_id)
    with app.app_context():
        plan = db.session.scalars(select(RepaymentPlan)).one()
        plan.status, plan.end_reason = PlanStatus.CANCELED, "expired"
        plan.ended_on = local_today("Asia/Shanghai", utcnow())
        db.session.commit()
    text = page_text(client.get(f"/loans/{loan_id}/plan"))
    assert "Canceled" in text
    assert "the down payment was not made within 7 days" in text
    assert "expired" not in text


def test_the_plan_page_in_chinese(app, client, make_user, make_loan):
    borrower, loan_id = overdue_loan(make_user, make_loan, locale="zh_CN")
    login(client, borrower)
    assert enroll(client, loan_id).status_code == 303
    text = page_text(client.get(f"/loans/{loan_id}/plan"))
    assert "首付" in text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RepaymentPlan)) == 1
