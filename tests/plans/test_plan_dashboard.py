"""The borrower's dashboard and loan page with a plan: its progress and next payment, the plan's
installments marked, and the originals it took over shown as rescheduled (not as paid)."""

from __future__ import annotations

import re

from portal.plans.models import PlanStatus
from tests.conftest import login, page_text
from tests.plans.conftest import enroll, overdue_loan, pay_down_payment, pay_in_sandbox, plans_of


def _active_plan(app, client, make_user, make_loan) -> int:
    borrower, loan_id = overdue_loan(make_user, make_loan)
    login(client, borrower)
    assert enroll(client, loan_id).status_code == 303
    pay_in_sandbox(client, pay_down_payment(client, loan_id))
    assert plans_of(app, loan_id)[0].status is PlanStatus.ACTIVE
    return loan_id


def test_an_overdue_loan_without_a_plan_links_to_the_offers(client, make_user, make_loan):
    borrower, loan_id = overdue_loan(make_user, make_loan)
    login(client, borrower)
    html = client.get("/").get_data(as_text=True)
    assert re.search(rf'href="/loans/{loan_id}/plans" data-testid="plans-button"', html)
    assert 'data-testid="dashboard-plan"' not in html


def test_a_plan_waiting_for_its_down_payment_shows_on_the_dashboard(client, make_user, make_loan):
    borrower, loan_id = overdue_loan(make_user, make_loan)
    login(client, borrower)
    enroll(client, loan_id)
    response = client.get("/")
    assert "Repayment plan: Waiting for the down payment" in page_text(response)
    assert f'href="/loans/{loan_id}/plan"' in response.get_data(as_text=True)


def test_the_dashboard_shows_the_active_plan_its_progress_and_next_payment(
    app, client, make_user, make_loan
):
    loan_id = _active_plan(app, client, make_user, make_loan)
    response = client.get("/")
    text = page_text(response)
    assert "0 of 6 payments made" in text
    assert "Next plan payment: CN¥" in text
    assert "Nothing overdue" in text  # the overdue balance moved into the plan
    html = response.get_data(as_text=True)
    assert f'href="/loans/{loan_id}/plan" data-testid="dashboard-plan-link"' in html
    assert 'data-testid="plans-button"' not in html


def test_the_loan_page_marks_plan_installments_and_rescheduled_originals(
    app, client, make_user, make_loan
):
    """The test loan: 6 monthly installments, 45 days overdue (two unpaid so far due), all six
    unpaid: every original is rescheduled into the 6 plan installments."""
    loan_id = _active_plan(app, client, make_user, make_loan)
    html = client.get(f"/loans/{loan_id}").get_data(as_text=True)
    assert html.count('data-testid="rescheduled"') == 6
    assert html.count('data-testid="plan-installment-mark"') == 6
    statuses = re.findall(r'data-testid="installment-status">\s*<span[^>]*>([^<]+)<', html)
    assert "Paid" not in statuses
    assert statuses.count("Rescheduled into plan") == 6
    assert "Your repayment plan: In progress" in page_text(client.get(f"/loans/{loan_id}"))
