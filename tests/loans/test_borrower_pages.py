from datetime import date, timedelta

from portal.auth.models import Role
from portal.timeutil import local_today, utcnow
from tests.conftest import count_queries, login, page_text


def _today():
    return local_today("Asia/Shanghai", utcnow())


def test_dashboard_shows_overdue_amount_and_next_due_date(client, make_user, make_loan):
    """The dashboard shows the overdue total, the next due date and each loan."""
    borrower = make_user(locale="en")
    overdue_start = _today() - timedelta(days=40)  # first installment 10 days late
    make_loan(
        borrower.id,
        principal_minor=300_000,
        rate_bps=0,
        fee_minor=0,
        disbursed_on=overdue_start,
        terms=3,
    )
    login(client, borrower)
    text = page_text(client.get("/"))
    assert "Overdue amount" in text
    assert "CN¥1,000.00" in text
    assert "LN-T00001" in text
    assert "days overdue" in text
    assert "Next due date" in text


def test_dashboard_empty_state_says_what_happens_next(borrower_client):
    """A borrower with no loans is told where loans come from."""
    text = page_text(borrower_client.get("/"))
    assert "您目前还没有借款" in text


def test_borrower_sees_own_loan_with_schedule(client, make_user, make_loan):
    """The loan page lists the schedule and the overdue split by component."""
    borrower = make_user()
    loan_id = make_loan(borrower.id, disbursed_on=_today() - timedelta(days=45), terms=3)
    login(client, borrower)
    response = client.get(f"/loans/{loan_id}")
    assert response.status_code == 200
    text = page_text(response)
    assert "还款计划" in text
    assert "本金" in text
    assert "利息" in text
    assert "¥1,000.00" in text


def test_borrower_guessing_another_loan_id_gets_404(client, make_user, make_loan):
    """Another borrower's loan is 'not found', never 'forbidden', and shows nothing of it."""
    owner = make_user()
    loan_id = make_loan(owner.id)
    intruder = make_user()
    login(client, intruder)
    response = client.get(f"/loans/{loan_id}")
    assert response.status_code == 404
    assert "LN-T00001" not in response.get_data(as_text=True)
    assert client.get("/loans/999999").status_code == 404


def test_staff_cannot_open_the_borrower_loan_page(client, make_user, make_loan):
    """The borrower's loan page is for borrowers; staff get 403."""
    loan_id = make_loan(make_user().id)
    login(client, make_user(Role.COLLECTOR))
    assert client.get(f"/loans/{loan_id}").status_code == 403


def test_dashboard_query_count_does_not_grow_with_loans(app, client, make_user, make_loan):
    """No query per loan: one loan or eight, the dashboard issues the same number of queries."""
    borrower = make_user()
    make_loan(borrower.id)
    login(client, borrower)
    with_one = count_queries(app, client, "/")
    for _ in range(7):
        make_loan(borrower.id, disbursed_on=date(2026, 7, 1))
    assert count_queries(app, client, "/") == with_one


def test_staff_home_shows_bucket_table_and_chart(admin_client, make_user, make_loan):
    """The portfolio page counts loans per delinquency bucket and draws them."""
    make_loan(make_user().id, disbursed_on=_today() - timedelta(days=75), terms=3)
    response = admin_client.get("/staff/")
    text = page_text(response)
    assert "31–60 天 1" in text  # the bucket in words, with its one loan
    assert "chart.umd.min.js" in response.get_data(as_text=True)
