"""The portfolio dashboard: buckets, roll rates between month ends, cure, promise-kept and contact
rates, recoveries, by collector and by stage, from real collections runs on past month ends."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, select, update

from portal.auth.models import Channel, Role
from portal.collections.models import (
    CaseStatus,
    CollectionCase,
    DelinquencySnapshot,
    PromiseStatus,
    PromiseToPay,
)
from portal.collections.run import run_collections
from portal.extensions import db
from portal.loans.models import Installment, PaymentMethod
from portal.loans.services import record_payment
from portal.messaging.models import CallOutcome, ContactKind, Message, MessageStatus
from portal.timeutil import local_today, utcnow
from tests.conftest import login, page_text

URL = "/staff/reports/portfolio"


def morning(day: date) -> datetime:
    """10:00 in Shanghai on ``day``."""
    return datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)


def month_end_before(day: date) -> date:
    return day.replace(day=1) - timedelta(days=1)


@dataclass
class Book:
    """What the scenario built: month ends, people, loans, and the amounts recovered."""

    m0: date
    m1: date
    m2: date
    cora: int
    colin: int
    loans: dict[str, int]
    recovered_b: int
    recovered_c: int


def _installments(loan_id: int, count: int) -> int:
    rows = db.session.scalars(
        select(Installment).where(Installment.loan_id == loan_id).order_by(Installment.sequence)
    ).all()
    return sum(row.total_due for row in rows[:count])


def _pay(loan_id: int, amount: int, day: date) -> None:
    record_payment(
        loan_id=loan_id,
        amount_minor=amount,
        currency="CNY",
        method=PaymentMethod.ALIPAY,
        received_at=morning(day),
    )
    db.session.commit()


def _message(
    borrower_id: int,
    channel: Channel,
    status: MessageStatus,
    sent: datetime,
    call_outcome: CallOutcome | None = None,
) -> None:
    db.session.add(
        Message(
            idempotency_key=uuid.uuid4().hex,
            borrower_id=borrower_id,
            purpose="overdue_stage_2",
            kind=ContactKind.COLLECTION,
            channel=channel,
            locale="en",
            status=status,
            not_before=sent,
            sent_at=sent if status is not MessageStatus.BLOCKED else None,
            call_outcome=call_outcome,
            created_at=sent,
        )
    )


def _promise(case_id: int, status: PromiseStatus, resolved_on: date) -> None:
    db.session.add(
        PromiseToPay(
            case_id=case_id,
            amount_minor=10_000,
            currency="CNY",
            promised_on=resolved_on - timedelta(days=2),
            made_at=morning(resolved_on - timedelta(days=5)),
            status=status,
            resolved_on=resolved_on,
        )
    )


def _case_of(loan_id: int) -> CollectionCase:
    return db.session.scalars(select(CollectionCase).where(CollectionCase.loan_id == loan_id)).one()


@pytest.fixture
def book(app_ctx, make_user, make_loan) -> Book:
    """Runs on three past month ends M0, M1, M2 (contacts off), with payments between them.

    A: never pays: 1-30 -> 31-60 -> 61-90.
    B: pays everything due up to M2 after M1: cured at M2.
    C: pays its first installment after M1: 31-60 at M1 and again at M2.
    D: a new loan with nothing overdue; its payment is no recovery.
    E: overdue from M2 on; pays a little before its case opens (no recovery either).
    """
    today = local_today("Asia/Shanghai", utcnow())
    m2 = month_end_before(today)
    m1 = month_end_before(m2)
    m0 = month_end_before(m1)
    cora = make_user(Role.COLLECTOR, locale="en", name="Cora Collector").id
    colin = make_user(Role.COLLECTOR, locale="en", name="Colin Collector").id
    loans = {}
    for key, disbursed in (
        ("A", m1 - timedelta(days=75)),
        ("B", m1 - timedelta(days=75)),
        ("C", m1 - timedelta(days=75)),
        ("D", m2 - timedelta(days=10)),
        ("E", m2 - timedelta(days=40)),
    ):
        borrower = make_user(locale="en", name=f"Borrower {key}").id
        loans[key] = make_loan(borrower, disbursed_on=disbursed)
    run_collections(m0, now=morning(m0), contacts=False)
    run_collections(m1, now=morning(m1), contacts=False)
    recovered_b = _installments(loans["B"], 3)
    recovered_c = _installments(loans["C"], 1)
    _pay(loans["B"], recovered_b, m1 + timedelta(days=3))
    _pay(loans["C"], recovered_c, m1 + timedelta(days=3))
    _pay(loans["D"], 500, m2)
    _pay(loans["E"], 100, m2 - timedelta(days=5))  # before E's case opens at M2
    run_collections(m2, now=morning(m2), contacts=False)

    cases = {key: _case_of(loans[key]) for key in "ABCE"}
    for key, holder in (("A", cora), ("B", cora), ("C", colin), ("E", None)):
        db.session.execute(
            update(CollectionCase)
            .where(CollectionCase.id == cases[key].id)
            .values(assigned_to=holder)
        )
    _promise(cases["A"].id, PromiseStatus.KEPT, m2)
    _promise(cases["A"].id, PromiseStatus.BROKEN, m2)
    _promise(cases["C"].id, PromiseStatus.KEPT, m2)
    now = utcnow()
    borrower_of = {key: cases[key].borrower_id for key in "ABCE"}
    _message(borrower_of["A"], Channel.SMS, MessageStatus.DELIVERED, now - timedelta(days=5))
    _message(borrower_of["C"], Channel.SMS, MessageStatus.BLOCKED, now - timedelta(days=2))
    _message(borrower_of["C"], Channel.EMAIL, MessageStatus.SENT, now - timedelta(days=45))
    _message(
        borrower_of["E"],
        Channel.PHONE,
        MessageStatus.SENT,
        now - timedelta(days=1),
        call_outcome=CallOutcome.CONNECTED,
    )
    db.session.commit()
    return Book(m0, m1, m2, cora, colin, loans, recovered_b, recovered_c)


@pytest.fixture
def admin(client, make_user):
    login(client, make_user(Role.ADMIN, locale="en", name="Ada Admin"))
    return client


def _cell(response, testid: str, tag: str = "td|div") -> str:
    """The text of the element marked ``testid`` (up to its first closing ``tag``)."""
    html = response.get_data(as_text=True)
    match = re.search(rf'data-testid="{re.escape(testid)}"[^>]*>(.*?)</({tag})>', html, re.S)
    assert match, f"no {testid}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def _charts(response) -> dict:
    html = response.get_data(as_text=True)
    match = re.search(r'<script id="portfolio-data" type="application/json">(.*?)</script>', html)
    assert match, "no chart data"
    return json.loads(match.group(1))


def _money(minor: int) -> str:
    return f"CN¥{minor // 100:,}.{minor % 100:02d}"


# --- Access and the empty state ---------------------------------------------------------------


def test_before_any_run_the_page_says_how_to_start(admin):
    """No run yet: an empty state naming the command to run, and no charts."""
    response = admin.get(URL)
    assert response.status_code == 200
    text = page_text(response)
    assert "No collections data yet." in text
    assert "flask --app wsgi collections run" in text
    assert "portfolio-data" not in response.get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.COLLECTOR, Role.AGENT, Role.BORROWER])
def test_only_admins_see_the_dashboard(client, make_user, role):
    """Collectors, agents and borrowers are refused."""
    login(client, make_user(role, locale="en"))
    assert client.get(URL).status_code == 403


# --- The figures ------------------------------------------------------------------------------


def test_buckets_count_open_cases_and_their_overdue_amounts(admin, book):
    """Open cases after M2: A in 61-90, C in 31-60, E in 1-30; B was cured."""
    response = admin.get(URL)
    assert response.status_code == 200
    assert _cell(response, "kpi-open") == "3"
    amounts = {key: _case_of(book.loans[key]).overdue_total for key in "ACE"}
    assert _cell(response, "bucket-61-90", "tr") == f"61–90 days 1 {_money(amounts['A'])}"
    assert _cell(response, "bucket-31-60", "tr") == f"31–60 days 1 {_money(amounts['C'])}"
    assert _cell(response, "bucket-1-30", "tr") == f"1–30 days 1 {_money(amounts['E'])}"
    assert _cell(response, "bucket-180+", "tr") == "180+ days 0 —"
    charts = _charts(response)
    assert charts["buckets"]["labels"] == [
        "1–30 days",
        "31–60 days",
        "61–90 days",
        "91–180 days",
        "180+ days",
    ]
    assert charts["buckets"]["loans"] == [1, 1, 1, 0, 0]


def test_roll_rates_between_the_latest_month_ends(admin, book):
    """M1 -> M2: of the three loans in 31-60, one rolled on, one stayed, one was cured."""
    response = admin.get(URL)
    text = page_text(response)
    assert "Roll rates between month ends" in text
    assert _cell(response, "roll-31-60-61-90") == "33.3%"
    assert _cell(response, "roll-31-60-31-60") == "33.3%"
    assert _cell(response, "roll-31-60-cured") == "33.3%"
    assert _cell(response, "roll-31-60-1-30") == ""
    assert _cell(response, "roll-1-30-31-60") == ""  # nobody was in 1-30 at M1
    html = response.get_data(as_text=True)
    assert re.search(r'class="bg-danger bg-opacity-\d+" data-testid="roll-31-60-61-90"', html)
    assert re.search(r'class="bg-success bg-opacity-\d+" data-testid="roll-31-60-cured"', html)


def test_an_earlier_pair_of_month_ends_can_be_chosen(admin, book):
    """?roll=M0 shows M0 -> M1, where all three loans went from 1-30 to 31-60."""
    response = admin.get(URL, query_string={"roll": book.m0.isoformat()})
    assert _cell(response, "roll-1-30-31-60") == "100.0%"
    assert _cell(response, "roll-1-30-cured") == ""
    assert f'<option value="{book.m1.isoformat()}"' in response.get_data(as_text=True)


def test_rates_overall(admin, book):
    """Cure 1 of 4 cases; promises 2 kept of 3; contact 2 of 3 open cases (A by SMS, E by
    phone; C's message was blocked and its email is too old); recovered B and C's payments."""
    response = admin.get(URL)
    assert _cell(response, "kpi-cure") == "25.0%"
    assert _cell(response, "kpi-promises") == "66.7%"
    assert _cell(response, "kpi-contact") == "66.7%"
    # E paid before its case opened and D has no case: neither counts as recovered.
    assert _cell(response, "kpi-recovered") == _money(book.recovered_b + book.recovered_c)


def test_rates_by_collector(admin, book):
    """Cora holds A and B, Colin holds C, E is not assigned."""
    response = admin.get(URL)
    cora, colin = f"collector-{book.cora}", f"collector-{book.colin}"
    assert _cell(response, f"{cora}-cure") == "50.0% 1 / 2"
    assert _cell(response, f"{cora}-promises") == "50.0% 1 / 2"
    assert _cell(response, f"{cora}-contact") == "100.0% 1 / 1"
    assert _cell(response, f"{cora}-recovered") == _money(book.recovered_b)
    assert _cell(response, f"{colin}-cure") == "0.0% 0 / 1"
    assert _cell(response, f"{colin}-promises") == "100.0% 1 / 1"
    assert _cell(response, f"{colin}-contact") == "0.0% 0 / 1"
    assert _cell(response, f"{colin}-recovered") == _money(book.recovered_c)
    assert _cell(response, "collector-none-contact") == "100.0% 1 / 1"
    assert _cell(response, "collector-none-promises") == "— 0 / 0"
    charts = _charts(response)["collectors"]
    assert charts["labels"] == ["Colin Collector", "Cora Collector", "Not assigned"]
    assert (charts["open"], charts["cured"]) == ([1, 1, 1], [0, 1, 0])


def test_rates_by_stage(admin, book):
    """A, B and C are in stage 3 (over 30 days past due); E entered stage 2 at M2."""
    response = admin.get(URL)
    assert _cell(response, "stage-3-cure") == "33.3% 1 / 3"
    assert _cell(response, "stage-3-recovered") == _money(book.recovered_b + book.recovered_c)
    assert _cell(response, "stage-2-cure") == "0.0% 0 / 1"
    assert _cell(response, "stage-2-contact") == "100.0% 1 / 1"
    assert _cell(response, "stage-1-cure") == "— 0 / 0"
    assert _cell(response, "stage-4-recovered") == "—"


def test_recoveries_chart_by_week_and_by_month(admin, book):
    """90 days are shown by week, 365 by month; both add up to the amount recovered."""
    weekly = _charts(admin.get(URL))["recovered"]
    assert [d["label"] for d in weekly["datasets"]] == ["CNY"]
    assert weekly["datasets"][0]["exponent"] == 2
    assert sum(weekly["datasets"][0]["minor"]) == book.recovered_b + book.recovered_c
    assert 13 <= len(weekly["labels"]) <= 14
    monthly = _charts(admin.get(URL, query_string={"days": "365"}))["recovered"]
    assert len(monthly["labels"]) in (12, 13)
    assert re.fullmatch(r"\d{4}-\d{2}", monthly["labels"][-1])
    assert sum(monthly["datasets"][0]["minor"]) == book.recovered_b + book.recovered_c


def test_a_short_period_leaves_out_older_payments(admin, book):
    """With 30 days, payments before the period are not counted (unless M1 is that recent)."""
    response = admin.get(URL, query_string={"days": "30"})
    start = local_today("Asia/Shanghai", utcnow()) - timedelta(days=29)
    paid_on = book.m1 + timedelta(days=3)
    expected = book.recovered_b + book.recovered_c if paid_on >= start else 0
    assert sum(_charts(response)["recovered"]["datasets"][0]["minor"]) == expected


def test_an_unknown_period_falls_back_to_90_days_with_a_message(admin, book):
    """?days=7 is not offered: the page says so and shows 90 days."""
    text = page_text(admin.get(URL, query_string={"days": "7"}))
    assert "That period is not available; showing the last 90 days." in text
    assert re.search(r'<option value="90" selected>', admin.get(URL).get_data(as_text=True))


def _count_queries(app, client) -> int:
    statements: list[str] = []
    engine = db.engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert client.get(URL).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(statements)


def test_query_count_does_not_grow_with_the_portfolio(app, admin, book, make_user, make_loan):
    """Adding collectors, cases, snapshots, promises, messages and payments adds no query."""
    before = _count_queries(app, admin)
    for number in range(12):
        holder = make_user(Role.COLLECTOR, name=f"Extra {number}").id
        borrower = make_user(name=f"Extra borrower {number}").id
        loan_id = make_loan(borrower, disbursed_on=book.m1 - timedelta(days=75))
        case = CollectionCase(
            loan_id=loan_id,
            borrower_id=borrower,
            status=CaseStatus.OPEN,
            opened_on=book.m1,
            stage=1 + number % 3,
            stage_entered_on=book.m1,
            bucket=["1-30", "31-60", "61-90", "91-180"][number % 4],
            overdue_principal=1_000 * (number + 1),
            currency="CNY",
            strategy_version=0,
            assigned_to=holder,
        )
        db.session.add(case)
        db.session.flush()
        for as_of, bucket in ((book.m1, "1-30"), (book.m2, "31-60")):
            db.session.add(
                DelinquencySnapshot(
                    as_of=as_of,
                    loan_id=loan_id,
                    bucket=bucket,
                    days_past_due=10,
                    overdue_total=1_000,
                    currency="CNY",
                )
            )
        _promise(case.id, PromiseStatus.KEPT, book.m2)
        _message(borrower, Channel.SMS, MessageStatus.SENT, utcnow() - timedelta(days=1))
        db.session.commit()
        _pay(loan_id, 1_000, book.m2)
    assert _count_queries(app, admin) == before
