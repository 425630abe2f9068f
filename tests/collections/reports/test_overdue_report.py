"""The overdue report: open cases filtered, sorted, paginated with totals; the streamed CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, select

import portal.collections.reports.overdue as overdue_module
from portal.audit.models import AuditEvent
from portal.auth.models import Role
from portal.collections.models import CaseStatus, CollectionCase
from portal.extensions import db
from portal.loans.models import Loan
from portal.messaging.models import PortalSetting
from tests.collections.conftest import record_contact, record_run
from tests.conftest import count_queries, login, page_text

URL = "/staff/reports/overdue"
CSV_URL = "/staff/reports/overdue.csv"
CONTACTED = datetime(2026, 10, 20, 6, 30, tzinfo=UTC)

RUN_DATE = date(2026, 10, 31)  # the run the hand-built cases stand for


@pytest.fixture
def collector(make_user):
    return make_user(Role.COLLECTOR, locale="en", name="Cora Collector")


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN, locale="en", name="Ada Admin")


@pytest.fixture
def staff(client, admin):
    """An admin's browser: the report lists every open case."""
    login(client, admin)
    return client


@pytest.fixture
def add_case(app, make_user, make_loan):
    """Open (or other-status) cases on new loans; returns the loan reference."""

    def factory(
        *,
        dpd: int,
        bucket: str = "1-30",
        stage: int = 1,
        principal: int = 10_000,
        interest: int = 0,
        fee: int = 0,
        late_charge: int = 0,
        currency: str = "CNY",
        assigned_to: int | None = None,
        name: str = "Bea Borrower",
        status: CaseStatus = CaseStatus.OPEN,
        last_contact_at: datetime | None = None,
        borrower_id: int | None = None,
    ) -> str:
        if borrower_id is None:
            borrower_id = make_user(locale="en", name=name).id
        loan_id = make_loan(borrower_id, currency=currency, disbursed_on=date(2026, 1, 15))
        with app.app_context():
            record_run(RUN_DATE)
            db.session.add(
                CollectionCase(
                    loan_id=loan_id,
                    borrower_id=borrower_id,
                    status=status,
                    opened_on=date(2026, 9, 1),
                    stage=stage,
                    stage_entered_on=date(2026, 9, 1),
                    bucket=bucket,
                    oldest_unpaid_due=RUN_DATE - timedelta(days=dpd),
                    overdue_principal=principal,
                    overdue_interest=interest,
                    overdue_fee=fee,
                    overdue_late_charge=late_charge,
                    currency=currency,
                    strategy_version=0,
                    assigned_to=assigned_to,
                )
            )
            if last_contact_at is not None:
                record_contact(borrower_id, last_contact_at)
            db.session.commit()
            return db.session.get(Loan, loan_id).reference

    return factory


def _rows(response) -> list[str]:
    html = response.get_data(as_text=True)
    rows = re.findall(r'<tr data-testid="overdue-row">(.*?)</tr>', html, re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in rows]


def _references(response) -> list[str]:
    return [row.split(" ")[0] for row in _rows(response)]


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


# --- The page ---------------------------------------------------------------------------------


def test_lists_open_cases_with_borrower_collector_and_currency_totals(staff, collector, add_case):
    """Open cases only, with borrower and collector names; totals per currency."""
    first = add_case(dpd=12, principal=100_050, interest=2_000, fee=500, assigned_to=collector.id)
    second = add_case(dpd=40, bucket="31-60", stage=3, principal=50_000, name="Ann Other")
    add_case(dpd=0, status=CaseStatus.CURED)
    usd = add_case(dpd=5, principal=999, currency="USD")

    response = staff.get(URL)

    assert response.status_code == 200
    assert _references(response) == [second, first, usd]  # most days past due first
    rows = _rows(response)
    assert "Bea Borrower" in rows[1]
    assert "Cora Collector" in rows[1]
    assert "CN¥1,025.50" in rows[1]  # principal + interest + fee
    assert "Ann Other" in rows[0]
    assert "Not assigned" in rows[0]
    assert "3 · Follow-up" in rows[0]
    text = page_text(response)
    assert "3 open cases" in text
    assert "Total CNY (2 cases)" in text
    assert "CN¥1,525.50" in text
    assert "Total USD (1 case) $9.99" in text


def test_filters_combine_bucket_stage_collector_dpd_and_amount(staff, collector, add_case):
    """Every filter narrows the list; amounts are typed in major units."""
    wanted = add_case(dpd=45, bucket="31-60", stage=3, principal=200_000, assigned_to=collector.id)
    add_case(dpd=45, bucket="31-60", stage=3, principal=200_000)  # nobody's
    add_case(dpd=45, bucket="31-60", stage=2, principal=200_000, assigned_to=collector.id)
    add_case(dpd=35, bucket="31-60", stage=3, principal=200_000, assigned_to=collector.id)
    add_case(dpd=50, bucket="31-60", stage=3, principal=90_000, assigned_to=collector.id)
    add_case(dpd=20, bucket="1-30", stage=3, principal=200_000, assigned_to=collector.id)

    response = staff.get(
        URL,
        query_string={
            "bucket": "31-60",
            "stage": "3",
            "collector": str(collector.id),
            "min_dpd": "40",
            "max_dpd": "60",
            "min_amount": "1,000.00",
            "max_amount": "5000",
        },
    )

    assert _references(response) == [wanted]
    assert "1 open case" in page_text(response)


def test_unassigned_filter_lists_cases_without_a_collector(staff, collector, add_case):
    """collector=none shows only cases nobody holds yet."""
    add_case(dpd=10, assigned_to=collector.id)
    nobody = add_case(dpd=11)
    assert _references(staff.get(URL, query_string={"collector": "none"})) == [nobody]


def test_invalid_filters_are_explained_and_the_others_still_apply(staff, add_case):
    """A bad number and a bad amount get a message each; the stage filter still applies."""
    stage_two = add_case(dpd=10, stage=2)
    add_case(dpd=10, stage=1)

    response = staff.get(URL, query_string={"stage": "2", "min_dpd": "ten", "min_amount": "12.345"})

    assert response.status_code == 200
    assert _references(response) == [stage_two]
    text = page_text(response)
    assert "Some filters were not applied" in text
    assert "Days past due from: Enter a whole number of days, such as 30." in text
    assert "Overdue from: Enter an amount in CNY, such as 1000.50." in text
    html = response.get_data(as_text=True)
    assert 'value="ten"' in html
    assert 'value="12.345"' in html
    assert '<option selected value="2">' in html


def test_reversed_ranges_and_unknown_choices_are_refused(staff, add_case):
    """'To' below 'from' and a bucket that does not exist are pointed out, not applied."""
    add_case(dpd=10)
    response = staff.get(URL, query_string={"min_dpd": "30", "max_dpd": "5", "bucket": "nonsense"})
    text = page_text(response)
    assert "Days past due to: “To” must not be less than “from”; it was ignored." in text
    assert "Bucket: That choice is not available; it was ignored." in text
    assert _references(response) == []  # min_dpd=30 still applies


def test_sort_by_amount_either_way(staff, add_case):
    """sort=amount orders by the total overdue; order=asc reverses it."""
    small = add_case(dpd=50, principal=1_000)
    large = add_case(dpd=10, principal=9_000, interest=500)
    middle = add_case(dpd=30, principal=5_000)
    assert _references(staff.get(URL, query_string={"sort": "amount"})) == [large, middle, small]
    ascending = staff.get(URL, query_string={"sort": "amount", "order": "asc"})
    assert _references(ascending) == [small, middle, large]
    assert _references(staff.get(URL, query_string={"order": "asc"})) == [large, middle, small]


def test_fifty_a_page_with_filters_kept_in_the_links(app, staff, make_user, add_case):
    """51 cases: 50 on page 1, 1 on page 2; the next-page link carries the filters."""
    borrower = make_user(locale="en", name="Many Loans")
    for number in range(51):
        add_case(dpd=100 - number, bucket="61-90", borrower_id=borrower.id)

    first = staff.get(URL, query_string={"bucket": "61-90"})
    assert len(_rows(first)) == 50
    assert "Page 1 of 2" in page_text(first)
    link = re.search(r'href="([^"]+)" data-testid="next-page"', first.get_data(as_text=True))
    assert link is not None
    assert "bucket=61-90" in link.group(1)
    assert "page=2" in link.group(1)

    second = staff.get(link.group(1).replace("&amp;", "&"))
    rows = _rows(second)
    assert len(rows) == 1
    assert " 50 " in f" {rows[0]} "


def test_query_count_does_not_grow_with_rows(app, staff, make_user, add_case):
    """One case or thirty, with collectors: the page issues the same number of queries."""
    add_case(dpd=3)
    with_one = count_queries(app, staff, URL)
    for number in range(29):
        holder = make_user(Role.COLLECTOR, name=f"Collector {number}") if number % 3 == 0 else None
        add_case(dpd=number + 1, assigned_to=holder.id if holder else None, name=f"B{number}")
    assert len(_rows(staff.get(URL))) == 30
    assert count_queries(app, staff, URL) == with_one


@pytest.mark.parametrize("role", [Role.BORROWER, Role.AGENT])
def test_other_roles_are_refused(client, make_user, role):
    """Only collectors and admins read the report or export it."""
    login(client, make_user(role, locale="en"))
    assert client.get(URL).status_code == 403
    assert client.get(CSV_URL).status_code == 403


def test_admins_read_the_report(client, make_user, add_case):
    """Admins see the same list."""
    reference = add_case(dpd=9)
    login(client, make_user(Role.ADMIN, locale="en"))
    assert _references(client.get(URL)) == [reference]


# --- Scoped to the viewer ------------------------------------------------------------------


@pytest.fixture
def three_holders(make_user, collector, add_case) -> dict[str, str]:
    """Open cases of ``collector``, of another collector, and of nobody: their references."""
    other = make_user(Role.COLLECTOR, locale="en", name="Otto Other")
    return {
        "mine": add_case(dpd=20, stage=2, assigned_to=collector.id),
        "mine_too": add_case(dpd=10, stage=1, assigned_to=collector.id),
        "theirs": add_case(dpd=30, stage=2, assigned_to=other.id),
        "nobody": add_case(dpd=40, stage=2),
    }


def test_the_report_lists_the_cases_the_viewer_may_open(
    app, client, make_user, collector, three_holders
):
    """A collector: their own cases (others' and unassigned ones answer 403); an admin: all;
    with case_visibility=all, as on the case pages, a collector lists all; filters still apply."""
    login(client, collector)
    response = client.get(URL)
    assert _references(response) == [three_holders["mine"], three_holders["mine_too"]]
    assert "2 open cases" in page_text(response)
    assert "Otto Other" not in response.get_data(as_text=True)  # nor offered as a filter
    assert _references(client.get(URL, query_string={"stage": "2"})) == [three_holders["mine"]]
    admin = app.test_client()
    login(admin, make_user(Role.ADMIN, locale="en"))
    everything = [three_holders[k] for k in ("nobody", "theirs", "mine", "mine_too")]
    assert _references(admin.get(URL)) == everything
    assert _references(admin.get(URL, query_string={"stage": "1"})) == [three_holders["mine_too"]]
    with app.app_context():
        db.session.add(PortalSetting(key="case_visibility", value="all"))
        db.session.commit()
    assert _references(client.get(URL)) == everything


def test_the_csv_lists_the_cases_the_viewer_may_open(
    app, client, make_user, collector, three_holders
):
    """The export follows the page's rule: a collector's own cases, an admin's all; filtered."""
    login(client, collector)
    rows = _csv(client.get(CSV_URL))[1:]
    assert [row[1] for row in rows] == [three_holders["mine"], three_holders["mine_too"]]
    staged = _csv(client.get(CSV_URL, query_string={"stage": "1"}))[1:]
    assert [row[1] for row in staged] == [three_holders["mine_too"]]
    admin = app.test_client()
    login(admin, make_user(Role.ADMIN, locale="en"))
    everything = [three_holders[k] for k in ("nobody", "theirs", "mine", "mine_too")]
    assert [row[1] for row in _csv(admin.get(CSV_URL))[1:]] == everything


# --- The CSV export ---------------------------------------------------------------------------


def test_csv_holds_the_filtered_rows_with_exact_decimal_amounts(staff, collector, add_case):
    """Same filters as the page; amounts as exact decimal strings; names and dates as text."""
    wanted = add_case(
        dpd=33,
        bucket="31-60",
        stage=3,
        principal=123_450,
        interest=1_005,
        fee=3_000,
        late_charge=250,
        assigned_to=collector.id,
        name="Chen Wei",
        last_contact_at=CONTACTED,
    )
    add_case(dpd=5, stage=2)

    response = staff.get(CSV_URL, query_string={"stage": "3"})

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert 'attachment; filename="overdue-' in response.headers["Content-Disposition"]
    header, *rows = _csv(response)
    assert header == [
        "Loan ID",
        "Loan reference",
        "Borrower",
        "Days past due",
        "Bucket",
        "Principal overdue",
        "Interest overdue",
        "Fees overdue",
        "Late charges overdue",
        "Total overdue",
        "Currency",
        "Stage",
        "Collector",
        "Last contact (UTC)",
    ]
    assert len(rows) == 1
    row = rows[0]
    assert row[1:] == [
        wanted,
        "Chen Wei",
        "33",
        "31–60 days",
        "1234.50",
        "10.05",
        "30.00",
        "2.50",
        "1277.05",
        "CNY",
        "3 · Follow-up",
        "Cora Collector",
        "2026-10-20T06:30:00+00:00",
    ]
    assert row[0].isdigit()


def test_csv_amounts_follow_the_currency_exponent(staff, add_case):
    """Yen have no minor digits, so 1500 minor units are "1500"; zero is "0.00" in CNY."""
    add_case(dpd=7, principal=1_500, currency="JPY")
    add_case(dpd=6, principal=5)
    rows = _csv(staff.get(CSV_URL))[1:]
    assert [(r[5], r[6], r[9], r[10]) for r in rows] == [
        ("1500", "0", "1500", "JPY"),
        ("0.05", "0.00", "0.05", "CNY"),
    ]


def test_csv_is_streamed_in_bounded_batches(app, staff, add_case, monkeypatch):
    """The rows are read only as the body is consumed, a batch per chunk, never all at once."""
    monkeypatch.setattr(overdue_module, "EXPORT_BATCH", 2)
    for number in range(5):
        add_case(dpd=number + 1, name=f"Borrower {number}")
    statements: list[str] = []
    with app.app_context():
        engine = db.engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        response = staff.get(CSV_URL, buffered=False)
        assert response.is_streamed
        assert not isinstance(response.response, list | tuple)
        body = iter(response.response)
        chunks = [next(body)]
        assert not any("loan.reference" in s for s in statements)  # rows not read yet
        chunks.extend(body)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert sum("loan.reference" in s for s in statements) == 1  # one query, read in batches
    texts = [chunk.decode() if isinstance(chunk, bytes) else chunk for chunk in chunks]
    assert [text.count("\r\n") for text in texts] == [1, 2, 2, 1]  # header, then 2 + 2 + 1
    names = [row[2] for row in csv.reader(io.StringIO("".join(texts).lstrip("\ufeff")))][1:]
    assert names == [f"Borrower {n}" for n in (4, 3, 2, 1, 0)]


def test_csv_export_is_audited_with_its_filters(app, staff, admin, add_case):
    """Each export records report.overdue_exported with who and which filters."""
    add_case(dpd=3)
    staff.get(CSV_URL, query_string={"stage": "1", "min_dpd": "2"}).get_data()
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "report.overdue_exported")
        ).one()
    assert event.actor_id == admin.id
    assert event.details["stage"] == 1
    assert event.details["min_dpd"] == 2


def test_csv_cells_cannot_run_as_spreadsheet_formulas(staff, add_case):
    """A name starting with '=' is written with a leading quote."""
    add_case(dpd=3, name='=HYPERLINK("http://evil")')
    assert _csv(staff.get(CSV_URL))[1][2] == '\'=HYPERLINK("http://evil")'


def test_csv_with_invalid_filters_sends_back_to_the_report(app, staff, add_case):
    """A filter that is not valid is not exported silently: back to the page, nothing audited."""
    add_case(dpd=3)
    response = staff.get(CSV_URL, query_string={"min_dpd": "x"})
    assert response.status_code == 303
    assert response.headers["Location"].startswith(URL + "?")
    assert "Enter a whole number of days" in page_text(staff.get(response.headers["Location"]))
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "report.overdue_exported" not in actions
