"""The daily collections run: days past due, buckets, cases, stages, promises, assignment,
contacts, idempotency and refusals, on whichever database the suite runs against."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select, update

import portal.collections.cli as cli_module
from portal.auth.models import BorrowerProfile, Role
from portal.collections.models import (
    CaseStatus,
    CaseTransition,
    CollectionCase,
    CollectionPosition,
    CollectionRun,
    DelinquencySnapshot,
    PromiseStatus,
    PromiseToPay,
)
from portal.collections.run import RunInProgress, RunRefused, cures, run_collections
from portal.collections.run.assignment import level_shares
from portal.collections.strategy.services import DEFAULT_STRATEGY, save_strategy
from portal.extensions import db
from portal.loans.models import Loan, LoanStatus, PaymentMethod
from portal.loans.services import record_payment
from portal.messaging.models import (
    ContactDecisionRecord,
    ContactHold,
    HoldReason,
    Message,
    MessageStatus,
)
from portal.timeutil import local_today

# The standard loan: 300,000 over 6 months from Jan 15, due on the 15th from Feb to Jul.
# Installment 1: principal 50,000 + interest 6,000 + fee 3,000 = 59,000; then 55,000, 54,000...
DISBURSED = date(2026, 1, 15)
FIRST_DUE = date(2026, 2, 15)
SECOND_DUE = date(2026, 3, 15)
FIRST_INSTALLMENT = 59_000
SECOND_INSTALLMENT = 55_000
LOAN_TOTAL = 300_000 + 3_000 + 6_000 + 5_000 + 4_000 + 3_000 + 2_000 + 1_000


def morning(day: date) -> datetime:
    """10:00 in Shanghai on ``day``: inside every rulebook's contact window."""
    return datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)


def run(day: date, *, contacts: bool = False, now: datetime | None = None):
    return run_collections(day, now=now or morning(day), contacts=contacts)


def pay(loan_id: int, amount: int, day: date) -> None:
    record_payment(
        loan_id=loan_id,
        amount_minor=amount,
        currency="CNY",
        method=PaymentMethod.ALIPAY,
        received_at=morning(day),
    )
    db.session.commit()


def cases_of(loan_id: int) -> list[CollectionCase]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(CollectionCase).where(CollectionCase.loan_id == loan_id).order_by("id")
        )
    )


def only_case(loan_id: int) -> CollectionCase:
    cases = cases_of(loan_id)
    assert len(cases) == 1, cases
    return cases[0]


def transitions_of(case_id: int) -> list[tuple]:
    return [
        (t.kind, t.from_stage, t.to_stage, t.reason, t.run_on)
        for t in db.session.scalars(
            select(CaseTransition).where(CaseTransition.case_id == case_id).order_by("id")
        )
    ]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def with_phone(account) -> None:
    db.session.get(BorrowerProfile, account.id).phone = f"+86138{account.id:08d}"
    db.session.commit()


@pytest.fixture
def borrower(app_ctx, make_user):
    account = make_user(locale="en")
    with_phone(account)
    return account


@pytest.fixture
def loan_id(borrower, make_loan):
    return make_loan(borrower.id, disbursed_on=DISBURSED, terms=6)


@pytest.fixture
def templates(app_ctx):
    from portal.messaging.default_templates import install_default_templates

    install_default_templates(now=morning(date(2026, 1, 1)))
    db.session.commit()


@pytest.fixture
def loan_due(borrower, make_loan):
    """A one-installment loan of 100,000 falling due on a given date (disbursed long before)."""

    def factory(due_on: date, *, account=None) -> int:
        new_id = make_loan(
            (account or borrower).id,
            principal_minor=100_000,
            rate_bps=0,
            fee_minor=0,
            disbursed_on=date(2024, 1, 1),
            terms=1,
        )
        db.session.get(Loan, new_id).installments[0].due_date = due_on
        db.session.commit()
        return new_id

    return factory


# --- Days past due around the due date ------------------------------------------------------


def test_no_case_on_the_due_date_and_one_day_past_due_the_day_after(loan_id):
    """On its due date an installment is not overdue; the next day the case opens at 1 DPD."""
    report = run(FIRST_DUE)
    assert (report.loans_evaluated, report.cases_opened, report.transitions) == (1, 0, 0)
    assert cases_of(loan_id) == []
    assert count(CollectionPosition) == 0

    report = run(FIRST_DUE + timedelta(days=1))
    assert (report.cases_opened, report.transitions) == (1, 1)
    case = only_case(loan_id)
    assert case.status is CaseStatus.OPEN
    assert (case.days_past_due, case.bucket, case.stage) == (1, "1-30", 1)
    assert (case.oldest_unpaid_due, case.opened_on) == (FIRST_DUE, date(2026, 2, 16))
    assert (case.overdue_principal, case.overdue_interest, case.overdue_fee) == (
        50_000,
        6_000,
        3_000,
    )
    assert transitions_of(case.id) == [("opened", None, 1, "overdue 1 dpd", date(2026, 2, 16))]


def test_grace_period_delays_the_case_but_days_count_from_the_due_date(loan_id):
    """With 3 grace days no case opens until the grace ends; then DPD counts from the due date."""
    settings = copy.deepcopy(DEFAULT_STRATEGY) | {"grace_days": 3}
    save_strategy(settings, actor_id=None, now=morning(date(2026, 1, 1)))
    db.session.commit()

    for day in (FIRST_DUE + timedelta(days=1), FIRST_DUE + timedelta(days=3)):
        assert run(day).cases_opened == 0
    assert cases_of(loan_id) == []

    assert run(FIRST_DUE + timedelta(days=4)).cases_opened == 1
    case = only_case(loan_id)
    # 4 DPD is also stage 2's threshold: the case opens straight into stage 2.
    assert (case.days_past_due, case.stage, case.strategy_version) == (4, 2, 1)
    assert case.oldest_unpaid_due == FIRST_DUE


def test_installment_inside_the_grace_period_is_not_yet_counted(loan_id):
    """With grace, the overdue amount holds only installments whose grace has ended."""
    settings = copy.deepcopy(DEFAULT_STRATEGY) | {"grace_days": 5}
    save_strategy(settings, actor_id=None, now=morning(date(2026, 1, 1)))
    db.session.commit()
    run(SECOND_DUE + timedelta(days=2))
    case = only_case(loan_id)
    assert case.days_past_due == 30
    assert case.overdue_total == FIRST_INSTALLMENT
    run(SECOND_DUE + timedelta(days=6))
    assert only_case(loan_id).overdue_total == FIRST_INSTALLMENT + SECOND_INSTALLMENT


# --- Partial and full payments --------------------------------------------------------------


def test_partial_payment_keeps_days_past_due_and_lowers_the_overdue_amount(loan_id):
    """Part of the oldest installment paid: same DPD, smaller overdue amount."""
    run(FIRST_DUE + timedelta(days=5))
    pay(loan_id, 20_000, FIRST_DUE + timedelta(days=5))
    report = run(FIRST_DUE + timedelta(days=6))
    assert (report.cases_opened, report.cases_cured, report.transitions) == (0, 0, 0)
    case = only_case(loan_id)
    assert case.status is CaseStatus.OPEN
    assert case.days_past_due == 6
    # The payment went fee, interest, then principal.
    assert (case.overdue_fee, case.overdue_interest, case.overdue_principal) == (0, 0, 39_000)


def test_paying_the_oldest_installment_moves_dpd_to_the_next_unpaid_one(loan_id):
    """Two installments overdue; paying the first makes DPD count from the second."""
    as_of = SECOND_DUE + timedelta(days=18)  # 46 days after the first, 18 after the second
    run(as_of)
    case = only_case(loan_id)
    assert (case.days_past_due, case.bucket, case.stage) == (46, "31-60", 3)
    assert case.overdue_total == FIRST_INSTALLMENT + SECOND_INSTALLMENT

    pay(loan_id, FIRST_INSTALLMENT - 1, as_of)
    run(as_of + timedelta(days=1))
    assert only_case(loan_id).days_past_due == 47  # one minor unit short: still the first

    pay(loan_id, 1, as_of + timedelta(days=1))
    run(as_of + timedelta(days=2))
    case = only_case(loan_id)
    assert (case.days_past_due, case.oldest_unpaid_due) == (20, SECOND_DUE)
    assert (case.bucket, case.stage, case.overdue_total) == ("1-30", 2, SECOND_INSTALLMENT)
    assert transitions_of(case.id)[-1] == ("stage", 3, 2, "20 dpd", as_of + timedelta(days=2))


def test_paying_up_cures_the_case(loan_id):
    """Once nothing is past due the case is cured (paid_up) with a 'cured' transition."""
    run(FIRST_DUE + timedelta(days=10))
    pay(loan_id, FIRST_INSTALLMENT, FIRST_DUE + timedelta(days=10))
    report = run(FIRST_DUE + timedelta(days=11))
    assert (report.cases_cured, report.transitions) == (1, 1)
    case = only_case(loan_id)
    assert (case.status, case.close_reason, case.closed_on) == (
        CaseStatus.CURED,
        "paid_up",
        FIRST_DUE + timedelta(days=11),
    )
    assert (case.days_past_due, case.overdue_total) == (0, 0)
    assert transitions_of(case.id)[-1] == (
        "cured",
        2,
        None,
        "paid up",
        FIRST_DUE + timedelta(days=11),
    )
    assert count(CollectionPosition) == 0


def test_paying_everything_cures_the_case_as_paid_off(loan_id):
    """Paying the whole balance pays the loan off: the case closes with reason paid_off."""
    run(SECOND_DUE + timedelta(days=1))
    pay(loan_id, LOAN_TOTAL, SECOND_DUE + timedelta(days=1))
    assert db.session.get(Loan, loan_id).status is LoanStatus.PAID_OFF
    assert run(SECOND_DUE + timedelta(days=2)).cases_cured == 1
    case = only_case(loan_id)
    assert (case.status, case.close_reason) == (CaseStatus.CURED, "paid_off")
    assert transitions_of(case.id)[-1][:4] == ("cured", 2, None, "paid off")


def test_written_off_loan_closes_its_case(loan_id):
    """A written-off loan leaves the run: its case is closed, not cured."""
    run(FIRST_DUE + timedelta(days=40))
    db.session.get(Loan, loan_id).status = LoanStatus.WRITTEN_OFF
    db.session.commit()
    assert run(FIRST_DUE + timedelta(days=41)).cases_cured == 1
    case = only_case(loan_id)
    assert (case.status, case.close_reason) == (CaseStatus.CLOSED, "written_off")


def test_a_cured_loan_that_falls_behind_again_gets_a_new_case(loan_id):
    """After a cure, the next missed installment opens a second case; the first stays cured."""
    run(FIRST_DUE + timedelta(days=3))
    pay(loan_id, FIRST_INSTALLMENT, FIRST_DUE + timedelta(days=3))
    run(FIRST_DUE + timedelta(days=4))
    assert run(SECOND_DUE + timedelta(days=1)).cases_opened == 1
    first, second = cases_of(loan_id)
    assert (first.status, second.status) == (CaseStatus.CURED, CaseStatus.OPEN)
    assert (second.days_past_due, second.oldest_unpaid_due) == (1, SECOND_DUE)


# --- Calendar edges --------------------------------------------------------------------------


def test_month_end_due_dates_are_clamped_and_counted(borrower, make_loan):
    """Jan 31 + 1 month is Feb 28: overdue from Mar 1; Mar 31 is a month end with a snapshot."""
    loan_id = make_loan(borrower.id, disbursed_on=date(2026, 1, 31), terms=3)
    dues = [i.due_date for i in db.session.get(Loan, loan_id).installments]
    assert dues == [date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]

    run(date(2026, 2, 28))
    assert cases_of(loan_id) == []
    run(date(2026, 3, 1))
    assert only_case(loan_id).days_past_due == 1

    run(date(2026, 3, 31))
    case = only_case(loan_id)
    assert (case.days_past_due, case.bucket, case.stage) == (31, "31-60", 3)
    snapshot = db.session.scalars(select(DelinquencySnapshot)).one()
    assert (snapshot.as_of, snapshot.loan_id, snapshot.bucket, snapshot.days_past_due) == (
        date(2026, 3, 31),
        loan_id,
        "31-60",
        31,
    )
    run(date(2026, 4, 1))  # not a month end: no snapshot
    assert count(DelinquencySnapshot) == 1


def test_leap_day_due_dates(borrower, make_loan):
    """Due on 2028-02-29 (clamped from Jan 31): not overdue that day, 1 DPD on Mar 1."""
    loan_id = make_loan(borrower.id, disbursed_on=date(2028, 1, 31), terms=2)
    assert db.session.get(Loan, loan_id).installments[0].due_date == date(2028, 2, 29)
    other = make_loan(borrower.id, disbursed_on=date(2028, 1, 28), terms=2)  # due Feb 28
    run(date(2028, 2, 29))
    assert cases_of(loan_id) == []
    assert only_case(other).days_past_due == 1
    run(date(2028, 3, 1))
    assert only_case(loan_id).days_past_due == 1
    assert only_case(other).days_past_due == 2  # Feb 29 counts as a day


def test_local_today_turns_at_midnight_in_shanghai():
    """16:00 UTC is midnight in Shanghai: 15:59 UTC is still the day before."""
    assert local_today("Asia/Shanghai", datetime(2026, 2, 15, 15, 59, tzinfo=UTC)) == FIRST_DUE
    assert local_today("Asia/Shanghai", datetime(2026, 2, 15, 16, 0, tzinfo=UTC)) == date(
        2026, 2, 16
    )


@pytest.mark.parametrize(
    ("clock", "as_of", "opened"),
    [
        (datetime(2026, 2, 15, 15, 59, 59, tzinfo=UTC), "2026-02-15", 0),
        (datetime(2026, 2, 15, 16, 0, tzinfo=UTC), "2026-02-16", 1),
    ],
)
def test_cli_run_defaults_to_today_in_the_default_time_zone(
    app, loan_id, monkeypatch, clock, as_of, opened
):
    """`flask collections run` without --as-of runs for today in Asia/Shanghai, not in UTC."""
    monkeypatch.setattr(cli_module, "utcnow", lambda: clock)
    result = app.test_cli_runner().invoke(args=["collections", "run", "--no-contacts"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["as_of"], report["cases_opened"]) == (as_of, opened)


def test_cli_refuses_a_future_date_with_a_message(app, loan_id, monkeypatch):
    """A run for tomorrow fails with the reason, and nothing is written."""
    monkeypatch.setattr(cli_module, "utcnow", lambda: morning(FIRST_DUE))
    result = app.test_cli_runner().invoke(
        args=["collections", "run", "--as-of", "2026-02-16", "--no-contacts"]
    )
    assert result.exit_code == 1
    assert "2026-02-15" in result.output
    assert count(CollectionRun) == 0


# --- Buckets and stages ----------------------------------------------------------------------

AS_OF = date(2026, 11, 28)
EXPECTED = {
    1: ("1-30", 1),
    3: ("1-30", 1),
    4: ("1-30", 2),
    30: ("1-30", 2),
    31: ("31-60", 3),
    60: ("31-60", 3),
    61: ("61-90", 3),
    90: ("61-90", 3),
    91: ("91-180", 3),
    180: ("91-180", 3),
    181: ("180+", 3),
    400: ("180+", 3),  # stage 4 (legal) is never entered by days past due alone
}


def test_bucket_and_stage_boundaries(loan_due):
    """Each bucket's first and last day, and the default stage thresholds 1/4/31."""
    loans = {dpd: loan_due(AS_OF - timedelta(days=dpd)) for dpd in EXPECTED}
    assert run(AS_OF).cases_opened == len(EXPECTED)
    found = {dpd: only_case(loan) for dpd, loan in loans.items()}
    assert {dpd: case.days_past_due for dpd, case in found.items()} == {d: d for d in EXPECTED}
    assert {dpd: (case.bucket, case.stage) for dpd, case in found.items()} == EXPECTED


def test_stages_follow_days_past_due_day_by_day(loan_id):
    """Default strategy: stage 1 from 1 DPD, stage 2 from 4, stage 3 from 31, never 4."""
    for offset, stage in [(1, 1), (3, 1), (4, 2), (30, 2), (31, 3), (200, 3)]:
        run(FIRST_DUE + timedelta(days=offset))
        assert only_case(loan_id).stage == stage, offset
    case = only_case(loan_id)
    assert [t[:3] for t in transitions_of(case.id)] == [
        ("opened", None, 1),
        ("stage", 1, 2),
        ("stage", 2, 3),
    ]
    assert transitions_of(case.id)[1][3:] == ("4 dpd", FIRST_DUE + timedelta(days=4))


def test_a_saved_strategy_moves_cases_by_its_own_thresholds(loan_id):
    """Thresholds 1/10/20 instead of 1/4/31: the same case moves on other days."""
    settings = copy.deepcopy(DEFAULT_STRATEGY)
    for stage, entry in zip(settings["stages"], (1, 10, 20, 60), strict=True):
        stage["entry_dpd"] = entry
    save_strategy(settings, actor_id=None, now=morning(date(2026, 1, 1)))
    db.session.commit()
    for offset, stage in [(4, 1), (9, 1), (10, 2), (19, 2), (20, 3), (90, 3)]:
        run(FIRST_DUE + timedelta(days=offset))
        assert only_case(loan_id).stage == stage, offset
    assert only_case(loan_id).strategy_version == 1


def test_a_new_strategy_version_applies_to_open_cases_at_the_next_run(loan_id):
    """A case in stage 2 under the default moves back to 1 when stage 2 now starts later."""
    run(FIRST_DUE + timedelta(days=5))
    assert only_case(loan_id).stage == 2
    settings = copy.deepcopy(DEFAULT_STRATEGY)
    settings["stages"][1]["entry_dpd"] = 10
    save_strategy(settings, actor_id=None, now=morning(FIRST_DUE))
    db.session.commit()
    report = run(FIRST_DUE + timedelta(days=6))
    case = only_case(loan_id)
    assert (report.transitions, case.stage, case.strategy_version) == (1, 1, 1)


def test_same_day_reruns_after_strategy_edits_record_every_move(loan_id):
    """Stage 2 starts later, then at 4 again, then later again, each followed by a rerun of the
    same date: the case, opened in stage 2, moves 2 -> 1 -> 2 -> 1, and the timeline has all
    three moves (a unique key on case, date and stage once refused the third)."""
    day = FIRST_DUE + timedelta(days=6)
    run(day)
    for entry, stage in [(10, 1), (4, 2), (10, 1)]:
        settings = copy.deepcopy(DEFAULT_STRATEGY)
        settings["stages"][1]["entry_dpd"] = entry
        save_strategy(settings, actor_id=None, now=morning(FIRST_DUE))
        db.session.commit()
        assert run(day).transitions == 1
        assert only_case(loan_id).stage == stage
    moves = [t[1:3] for t in transitions_of(only_case(loan_id).id) if t[0] == "stage"]
    assert moves == [(2, 1), (1, 2), (2, 1)]


def test_a_case_in_the_legal_stage_stays_there(loan_id):
    """Stage 4 is entered only by approval; the run neither enters nor leaves it by DPD."""
    run(FIRST_DUE + timedelta(days=100))
    case = only_case(loan_id)
    assert case.stage == 3
    case.stage = 4
    db.session.commit()
    report = run(FIRST_DUE + timedelta(days=101))
    case = only_case(loan_id)
    assert (report.transitions, case.stage, case.days_past_due) == (0, 4, 101)


# --- Idempotency -----------------------------------------------------------------------------


def dump(model) -> list[tuple]:
    db.session.expire_all()
    table = model.__table__
    return [tuple(row) for row in db.session.execute(select(table).order_by(*table.primary_key))]


def test_second_run_for_the_same_date_changes_nothing(app_ctx, make_user, templates, loan_due):
    """A second run for today reports zeros and changes no case, transition or message row."""
    make_user(Role.COLLECTOR)
    accounts = [make_user(locale="en") for _ in range(3)]
    for account in accounts:
        with_phone(account)
    cured = loan_due(AS_OF - timedelta(days=2), account=accounts[0])
    run(AS_OF - timedelta(days=1))
    pay(cured, 100_000, AS_OF - timedelta(days=1))
    dpd_loans = [
        loan_due(AS_OF - timedelta(days=dpd), account=account)
        for dpd, account in zip((2, 10, 45), accounts, strict=True)
    ]
    promise_id = promise(only_case(cured).id, 1_000, AS_OF, AS_OF - timedelta(days=1))

    first = run(AS_OF, contacts=True)
    assert (first.cases_opened, first.cases_cured, first.transitions) == (3, 1, 4)
    assert first.contacts_queued > 0
    assert promise_state(promise_id)[0] is PromiseStatus.KEPT
    tables = (CollectionCase, CaseTransition, Message, ContactDecisionRecord, PromiseToPay)
    before = {model: dump(model) for model in tables}

    second = run(AS_OF, contacts=True, now=morning(AS_OF) + timedelta(hours=1))
    assert second.loans_evaluated == len(dpd_loans)
    counters = (
        second.cases_opened,
        second.cases_cured,
        second.transitions,
        second.contacts_queued,
        second.contacts_deferred,
        second.contacts_blocked,
    )
    assert counters == (0, 0, 0, 0, 0, 0)
    assert {model: dump(model) for model in tables} == before
    stored = db.session.scalars(select(CollectionRun).where(CollectionRun.as_of == AS_OF)).one()
    assert stored.status == "finished"
    assert stored.report["contacts_queued"] == 0


# --- Promises ----------------------------------------------------------------------------------


def promise(case_id: int, amount: int, promised_on: date, made_on: date) -> int:
    row = PromiseToPay(
        case_id=case_id,
        amount_minor=amount,
        currency="CNY",
        promised_on=promised_on,
        made_at=morning(made_on),
    )
    db.session.add(row)
    db.session.commit()
    return row.id


def promise_state(promise_id: int) -> tuple:
    db.session.expire_all()
    row = db.session.get(PromiseToPay, promise_id)
    return row.status, row.resolved_on


def test_promise_is_kept_when_payments_since_it_reach_the_amount(loan_id):
    """Only payments after the promise count; once they reach the amount it is kept."""
    day = FIRST_DUE + timedelta(days=5)
    run(day)
    pay(loan_id, 1_000, day)  # before the promise: does not count
    promise_id = promise(
        only_case(loan_id).id, 30_000, day + timedelta(days=5), day + timedelta(days=1)
    )
    pay(loan_id, 20_000, day + timedelta(days=2))
    run(day + timedelta(days=2))
    assert promise_state(promise_id) == (PromiseStatus.PENDING, None)
    pay(loan_id, 10_000, day + timedelta(days=3))
    run(day + timedelta(days=3))
    assert promise_state(promise_id) == (PromiseStatus.KEPT, day + timedelta(days=3))


def test_promise_is_broken_when_its_date_passes_short(loan_id):
    """Not enough paid by the promised date: broken the day after, not on the day itself."""
    day = FIRST_DUE + timedelta(days=5)
    run(day)
    promise_id = promise(only_case(loan_id).id, 30_000, day + timedelta(days=3), day)
    pay(loan_id, 29_999, day + timedelta(days=1))
    run(day + timedelta(days=3))
    assert promise_state(promise_id) == (PromiseStatus.PENDING, None)
    run(day + timedelta(days=4))
    assert promise_state(promise_id) == (PromiseStatus.BROKEN, day + timedelta(days=4))


# --- Assignment ------------------------------------------------------------------------------


def assigned_counts() -> dict[int | None, int]:
    db.session.expire_all()
    rows = db.session.execute(
        select(CollectionCase.assigned_to, func.count())
        .where(CollectionCase.status == CaseStatus.OPEN)
        .group_by(CollectionCase.assigned_to)
    ).all()
    return {assignee: number for assignee, number in rows}


def test_new_cases_go_to_the_least_loaded_active_collectors(app_ctx, make_user, loan_due):
    """Unassigned cases level the collectors' workloads; inactive collectors and agents get none."""
    busy = make_user(Role.COLLECTOR)
    for _ in range(4):
        loan_due(AS_OF - timedelta(days=10))
    run(AS_OF - timedelta(days=1))
    assert assigned_counts() == {busy.id: 4}

    idle = make_user(Role.COLLECTOR)
    away = make_user(Role.COLLECTOR, active=False)
    agent = make_user(Role.AGENT)
    for _ in range(6):
        loan_due(AS_OF - timedelta(days=3))
    run(AS_OF)
    counts = assigned_counts()
    assert counts == {busy.id: 5, idle.id: 5}
    assert away.id not in counts
    assert agent.id not in counts


@pytest.mark.parametrize(
    ("loads", "cases", "shares"),
    [
        ([0, 4], 6, [5, 1]),
        ([0, 4], 3, [3, 0]),
        ([0, 0, 0], 7, [3, 2, 2]),
        ([1, 2, 9], 4, [3, 1, 0]),
        ([5], 2, [2]),
    ],
)
def test_level_shares_fill_the_least_loaded_first(loads, cases, shares):
    """Water-filling: the lightest collectors catch up first, then cases spread evenly."""
    assert level_shares(loads, cases) == shares
    assert sum(shares) == cases


def test_without_collectors_cases_stay_unassigned(loan_id, make_user):
    """No active collector: cases open unassigned and are picked up once one exists."""
    run(FIRST_DUE + timedelta(days=1))
    assert assigned_counts() == {None: 1}
    collector = make_user(Role.COLLECTOR)
    run(FIRST_DUE + timedelta(days=2))
    assert assigned_counts() == {collector.id: 1}


# --- Refusals --------------------------------------------------------------------------------


def test_a_run_for_a_future_date_is_refused_and_writes_nothing(loan_id):
    """Tomorrow cannot be evaluated: RunRefused names today, and no run row or case appears."""
    with force_locale("en"), pytest.raises(RunRefused, match="future date.*2026-02-15"):
        run_collections(FIRST_DUE + timedelta(days=1), now=morning(FIRST_DUE))
    assert (count(CollectionRun), count(CollectionCase), count(CollectionPosition)) == (0, 0, 0)


def test_a_run_before_any_loan_is_refused_and_writes_nothing(loan_id):
    """A date before the first disbursement has nothing to evaluate."""
    with force_locale("en"), pytest.raises(RunRefused, match="no loans on or before 2026-01-14"):
        run(DISBURSED - timedelta(days=1))
    assert (count(CollectionRun), count(CollectionCase)) == (0, 0)


def test_a_run_for_a_date_before_the_latest_run_is_refused_and_changes_nothing(loan_id):
    """Cases hold the latest run's state; an earlier date would turn them back in time."""
    later = FIRST_DUE + timedelta(days=10)
    run(later)
    with force_locale("en"), pytest.raises(RunRefused, match="latest run was for 2026-02-25"):
        run(later - timedelta(days=3), now=morning(later))
    assert count(CollectionRun) == 1
    assert only_case(loan_id).days_past_due == 10
    assert run(later).transitions == 0  # the same date again is still fine


def test_days_past_due_count_to_the_latest_run_without_rewriting_the_case(loan_id):
    """A case that merely grew older is not updated; its days past due follow the run date."""
    run(FIRST_DUE + timedelta(days=1))
    before = only_case(loan_id)
    figures = (before.bucket, before.oldest_unpaid_due, before.overdue_total)
    run(FIRST_DUE + timedelta(days=2))
    db.session.expire_all()
    after = only_case(loan_id)
    assert after.days_past_due == 2
    assert (after.bucket, after.oldest_unpaid_due, after.overdue_total) == figures


def test_a_run_with_no_loans_at_all_is_refused(app_ctx):
    """An empty portfolio: refused rather than reported as an empty success."""
    with force_locale("en"), pytest.raises(RunRefused, match="no loans"):
        run(AS_OF)
    assert count(CollectionRun) == 0


# --- The run lock ------------------------------------------------------------------------------


def hold_lock(day: date, started_at: datetime) -> None:
    db.session.add(
        CollectionRun(
            as_of=day, status="running", started_at=started_at, strategy_version=0, report={}
        )
    )
    db.session.commit()


def test_a_running_run_refuses_a_second_one_until_it_goes_stale(loan_id):
    """A run started 10 minutes ago holds the date; one started over an hour ago is taken over."""
    day = FIRST_DUE + timedelta(days=1)
    hold_lock(day, morning(day) - timedelta(minutes=10))
    with pytest.raises(RunInProgress):
        run(day)
    assert cases_of(loan_id) == []

    db.session.execute(
        update(CollectionRun).values(started_at=morning(day) - timedelta(hours=1, minutes=1))
    )
    db.session.commit()
    assert run(day).cases_opened == 1
    stored = db.session.scalars(select(CollectionRun)).one()
    assert (stored.status, stored.report["cases_opened"]) == ("finished", 1)


def test_a_failed_run_releases_the_date_and_can_run_again(loan_id, monkeypatch):
    """A step that fails leaves the run row finished, so the same date can be run at once."""
    day = FIRST_DUE + timedelta(days=1)

    def broken(*_args, **_kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(cures, "cure_cases", broken)
    with pytest.raises(RuntimeError, match="went away"):
        run(day)
    stored = db.session.scalars(select(CollectionRun)).one()
    assert stored.status == "finished"
    monkeypatch.undo()
    report = run(day)
    # The case opened before the failure stays; the retry completes the day without a duplicate.
    assert (report.cases_opened, len(cases_of(loan_id))) == (0, 1)
    assert [t[0] for t in transitions_of(only_case(loan_id).id)] == ["opened"]


# --- Contacts ----------------------------------------------------------------------------------


def test_contacts_are_queued_only_for_today(loan_id, templates):
    """A catch-up run for a past date contacts nobody; today's run queues the stage's channels."""
    day = FIRST_DUE + timedelta(days=5)
    past = run(day - timedelta(days=1), contacts=True, now=morning(day))
    assert (past.cases_opened, past.contacts_queued) == (1, 0)
    assert count(Message) == 0

    today = run(day, contacts=True)
    assert (today.contacts_queued, today.contacts_deferred, today.contacts_blocked) == (3, 0, 0)
    messages = db.session.scalars(select(Message).order_by(Message.id)).all()
    assert sorted(m.channel.value for m in messages) == ["email", "portal", "sms"]
    assert {(m.purpose, m.loan_id, m.status) for m in messages} == {
        ("overdue_stage_1", loan_id, MessageStatus.QUEUED)
    }
    decisions = db.session.scalars(select(ContactDecisionRecord)).all()
    assert sorted(d.message_id for d in decisions) == [m.id for m in messages]
    assert only_case(loan_id).last_notice_on == day


def test_contacts_follow_the_stage_cadence(loan_id, templates):
    """Stage 2 contacts every 7 days: nothing on day 6 after a contact, again on day 7."""
    day = FIRST_DUE + timedelta(days=5)
    assert run(day, contacts=True).contacts_queued == 3
    assert run(day + timedelta(days=6), contacts=True).contacts_queued == 0
    assert run(day + timedelta(days=7), contacts=True).contacts_queued == 3


def test_a_borrower_under_a_contact_hold_gets_blocked_messages(
    app_ctx, make_user, loan_due, templates
):
    """An open dispute blocks every stage contact for that borrower, on the record; others go."""
    held, free = make_user(locale="en"), make_user(locale="en")
    for account in (held, free):
        with_phone(account)
    held_loan = loan_due(AS_OF - timedelta(days=10), account=held)
    free_loan = loan_due(AS_OF - timedelta(days=10), account=free)
    db.session.add(
        ContactHold(borrower_id=held.id, reason=HoldReason.DISPUTE, opened_at=morning(AS_OF))
    )
    db.session.commit()

    report = run(AS_OF, contacts=True)
    assert (report.contacts_queued, report.contacts_blocked) == (3, 3)
    by_loan = {
        loan: {(m.status, m.blocked_rule) for m in messages}
        for loan, messages in (
            (loan, db.session.scalars(select(Message).where(Message.loan_id == loan)).all())
            for loan in (held_loan, free_loan)
        )
    }
    assert by_loan == {
        held_loan: {(MessageStatus.BLOCKED, "hold:dispute")},
        free_loan: {(MessageStatus.QUEUED, None)},
    }
    blocked = db.session.scalars(
        select(ContactDecisionRecord).where(ContactDecisionRecord.borrower_id == held.id)
    ).all()
    assert {(d.outcome, d.rule) for d in blocked} == {("block", "hold:dispute")}
    assert len(blocked) == 3


def test_a_run_late_at_night_defers_texts_to_the_morning(loan_id, templates):
    """At 23:00 in Shanghai the portal notice goes now; SMS and email wait for the window."""
    day = FIRST_DUE + timedelta(days=5)
    night = datetime(day.year, day.month, day.day, 15, 0, tzinfo=UTC)  # 23:00 Shanghai
    report = run(day, contacts=True, now=night)
    assert (report.contacts_queued, report.contacts_deferred) == (1, 2)
    waiting = db.session.scalars(select(Message).where(Message.channel != "portal")).all()
    assert {m.not_before for m in waiting} == {morning(day) + timedelta(hours=22)}  # 08:00


def test_a_borrower_not_yet_overdue_locally_is_contacted_the_next_day(
    app_ctx, make_user, make_loan, templates
):
    """A borrower not yet overdue on their own calendar stays due a contact for the next day."""
    # At 10:00 in Shanghai it is still the due date in New York: no notice that day.
    account = make_user(locale="en", timezone="America/New_York")
    with_phone(account)
    loan_id = make_loan(account.id, disbursed_on=DISBURSED, terms=6)
    day = FIRST_DUE + timedelta(days=1)
    first = run(day, contacts=True)
    assert (first.cases_opened, first.contacts_queued) == (1, 0)
    assert only_case(loan_id).last_notice_on is None

    second = run(day + timedelta(days=1), contacts=True)
    assert second.contacts_queued == 1  # stage 1: the portal notice
    assert only_case(loan_id).last_notice_on == day + timedelta(days=1)


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_the_command_refuses_a_date_out_of_range(app, day):
    """`collections run --as-of` answers a far date with a usage error, never a traceback."""
    result = app.test_cli_runner().invoke(args=["collections", "run", "--as-of", day])
    assert result.exit_code == 2
    assert "choose a date between 1900 and 2200" in result.output
