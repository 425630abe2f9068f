"""The borrower's plans page: offers for their own loan only, each with its full schedule; the
income and expenses they state (not stored) mark and order the offers; both languages."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from portal.auth.models import Role
from portal.extensions import db
from portal.plans.models import PlanPolicyVersion
from portal.timeutil import local_today, utcnow
from tests.conftest import csrf_token, login, page_text


def _overdue_loan(make_user, make_loan, *, locale="en", days=45):
    borrower = make_user(locale=locale)
    today = local_today("Asia/Shanghai", utcnow())
    return borrower, make_loan(borrower.id, disbursed_on=today - timedelta(days=days))


def _terms(html: str) -> list[str]:
    return re.findall(r'data-testid="offer-term">([^<]+)<', html)


def test_offers_side_by_side_with_their_schedules(client, make_user, make_loan):
    borrower, loan_id = _overdue_loan(make_user, make_loan)
    login(client, borrower)
    response = client.get(f"/loans/{loan_id}/plans")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert _terms(html) == [
        "3 installments, Monthly",
        "6 installments, Monthly",
        "12 installments, Monthly",
        "6 installments, Every two weeks",
    ]
    assert html.count('data-testid="offer-installment"') == 3 + 6 + 12 + 6
    assert "Affordable" not in page_text(response)  # nothing stated: nothing marked
    assert html.count('data-testid="enroll-form"') == 4  # a consent form under each offer


def test_the_loan_page_links_to_plans_when_overdue(client, make_user, make_loan):
    borrower, loan_id = _overdue_loan(make_user, make_loan)
    login(client, borrower)
    html = client.get(f"/loans/{loan_id}").get_data(as_text=True)
    assert f'href="/loans/{loan_id}/plans"' in html


def test_stated_means_mark_and_order_the_offers(app, client, make_user, make_loan):
    """Income 5,000 and expenses 3,000 a month: 600 affordable. The 6- and 12-month plans fit
    (the dearest that fits first), the 3-month and bi-weekly ones are out of reach (nearest
    first)."""
    borrower, loan_id = _overdue_loan(make_user, make_loan)
    login(client, borrower)
    url = f"/loans/{loan_id}/plans"
    response = client.post(
        url, data={"csrf_token": csrf_token(client, url), "income": "5,000", "expenses": "3000"}
    )
    assert response.status_code == 200
    text = page_text(response)
    assert "You can afford about CN¥600.00 a month." in text
    assert "Balance restructured CN¥3,240.00 Down payment today CN¥324.00" in text
    html = response.get_data(as_text=True)
    terms = _terms(html)
    marks = re.findall(r'data-testid="offer-(affordable|out-of-reach)"', html)
    assert list(zip(terms, marks, strict=True)) == [
        ("6 installments, Monthly", "affordable"),
        ("12 installments, Monthly", "affordable"),
        ("3 installments, Monthly", "out-of-reach"),
        ("6 installments, Every two weeks", "out-of-reach"),
    ]
    with app.app_context():  # nothing stored
        assert db.session.scalar(select(func.count()).select_from(PlanPolicyVersion)) == 0


def test_bad_means_are_field_errors(client, make_user, make_loan):
    borrower, loan_id = _overdue_loan(make_user, make_loan)
    login(client, borrower)
    url = f"/loans/{loan_id}/plans"
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "income": "lots"})
    assert response.status_code == 422
    assert "Enter an amount such as 1,250.00." in page_text(response)
    empty = client.post(url, data={"csrf_token": csrf_token(client, url), "expenses": "5"})
    assert "Enter your monthly income" in page_text(empty)
    assert client.post(url, data={"income": "100"}).status_code == 400  # no CSRF token


def test_a_loan_that_is_not_overdue_is_told_why(client, make_user, make_loan):
    borrower = make_user(locale="en")
    loan_id = make_loan(borrower.id, disbursed_on=local_today("Asia/Shanghai", utcnow()))
    login(client, borrower)
    response = client.get(f"/loans/{loan_id}/plans")
    assert response.status_code == 200
    assert "not overdue enough" in page_text(response)
    assert 'data-testid="plan-offer"' not in response.get_data(as_text=True)


def test_only_the_borrowers_own_loan(client, make_user, make_loan):
    _owner, loan_id = _overdue_loan(make_user, make_loan)
    login(client, make_user(locale="en"))
    assert client.get(f"/loans/{loan_id}/plans").status_code == 404
    url = "/loans/999999/plans"
    assert client.get(url).status_code == 404


def test_staff_do_not_reach_the_borrower_page(client, make_user, make_loan):
    _owner, loan_id = _overdue_loan(make_user, make_loan)
    login(client, make_user(Role.COLLECTOR, locale="en"))
    assert client.get(f"/loans/{loan_id}/plans").status_code in (403, 404)


def test_page_in_chinese(client, make_user, make_loan):
    borrower, loan_id = _overdue_loan(make_user, make_loan, locale="zh_CN")
    login(client, borrower)
    text = page_text(client.get(f"/loans/{loan_id}/plans"))
    assert "还款计划" in text
    assert "每月" in text
