"""What a booked payment changes at once: days past due, the case cured or refreshed, promises
kept, stale reminders withdrawn; and what a refund undoes (the case back at its stage)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy import select, update

from portal.auth.models import Channel
from portal.collections.cases.refresh import CaseChange
from portal.collections.models import (
    CaseStatus,
    CaseTransition,
    CollectionCase,
    CollectionPosition,
    PromiseStatus,
    PromiseToPay,
)
from portal.collections.run import run_collections
from portal.extensions import db
from portal.loans.models import Installment, Loan, LoanStatus
from portal.messaging.models import ContactKind, Message, MessageStatus
from portal.payments import effects
from tests.payments.conftest import (
    DISBURSED,
    FIRST_INSTALLMENT,
    LOAN_TOTAL,
    SECOND_DUE,
    SECOND_INSTALLMENT,
    morning,
    pay,
)


def _case(loan_id: int) -> CollectionCase:
    db.session.expire_all()
    return db.session.scalars(
        select(CollectionCase).where(CollectionCase.loan_id == loan_id).order_by("id")
    ).all()[-1]


def _transitions(case_id: int) -> list[tuple[str, str]]:
    return [
        (t.kind, t.reason)
        for t in db.session.scalars(
            select(CaseTransition).where(CaseTransition.case_id == case_id).order_by("id")
        )
    ]


def test_paying_what_is_overdue_cures_the_case_at_once(app, loan_in_collections):
    """Paid up between runs: the case is cured now, with a 'cured (paid up)' transition."""
    _, loan_id = loan_in_collections()
    with app.app_context():
        assert _case(loan_id).days_past_due == 5
        result = pay(loan_id, FIRST_INSTALLMENT, morning(date(2026, 2, 20)) + timedelta(hours=3))
        assert result.case is CaseChange.CURED
        case = _case(loan_id)
        assert case.status is CaseStatus.CURED
        assert case.close_reason == "paid_up"
        assert case.closed_on == date(2026, 2, 20)
        assert case.days_past_due == 0
        assert case.overdue_total == 0
        assert _transitions(case.id) == [("opened", "overdue 5 dpd"), ("cured", "paid up")]
        assert db.session.get(CollectionPosition, loan_id) is None


def test_the_next_run_does_not_cure_twice_or_reopen(app, loan_in_collections):
    """A rerun for the same day, and the next day's run, find nothing left to do."""
    _, loan_id = loan_in_collections()
    with app.app_context():
        pay(loan_id, FIRST_INSTALLMENT, morning(date(2026, 2, 20)))
        rerun = run_collections(date(2026, 2, 20), now=morning(date(2026, 2, 20)), contacts=False)
        tomorrow = run_collections(
            date(2026, 2, 21), now=morning(date(2026, 2, 21)), contacts=False
        )
        assert (rerun.cases_cured, rerun.cases_opened) == (0, 0)
        assert (tomorrow.cases_cured, tomorrow.cases_opened) == (0, 0)
        assert len(_transitions(_case(loan_id).id)) == 2
        assert db.session.scalar(select(db.func.count()).select_from(CollectionCase)) == 1


def test_partial_payment_moves_days_past_due_bucket_and_figures_at_once(app, loan_in_collections):
    """Two installments late; the older one paid: days past due count from the second one."""
    _, loan_id = loan_in_collections(date(2026, 3, 20))
    with app.app_context():
        before = _case(loan_id)
        assert (before.days_past_due, before.bucket) == (33, "31-60")
        result = pay(loan_id, FIRST_INSTALLMENT, morning(date(2026, 3, 20)))
        assert result.case is CaseChange.REFRESHED
        case = _case(loan_id)
        assert case.status is CaseStatus.OPEN
        assert case.oldest_unpaid_due == SECOND_DUE
        assert (case.days_past_due, case.bucket) == (5, "1-30")
        assert case.overdue_total == SECOND_INSTALLMENT
        position = db.session.get(CollectionPosition, loan_id)
        assert (position.days_past_due, position.overdue_principal) == (5, 50_000)


def test_payment_before_the_day_s_run_counts_days_as_of_today(app, loan_in_collections):
    """The case's figures are as of the portfolio's today, even when the run has not run yet."""
    _, loan_id = loan_in_collections(date(2026, 3, 20))
    with app.app_context():
        pay(loan_id, 30_000, morning(date(2026, 4, 1)))  # a part of the first installment
        case = _case(loan_id)
        assert case.oldest_unpaid_due == date(2026, 2, 15)
        assert case.overdue_total == FIRST_INSTALLMENT + SECOND_INSTALLMENT - 30_000
        assert db.session.get(CollectionPosition, loan_id).days_past_due == 45


def test_paying_off_closes_the_case_as_paid_off(app, loan_in_collections):
    """The whole loan paid: the loan is paid off and the case says so."""
    _, loan_id = loan_in_collections()
    with app.app_context():
        pay(loan_id, LOAN_TOTAL, morning(date(2026, 2, 21)))
        case = _case(loan_id)
        assert db.session.get(Loan, loan_id).status is LoanStatus.PAID_OFF
        assert (case.status, case.close_reason) == (CaseStatus.CURED, "paid_off")
        assert _transitions(case.id)[-1] == ("cured", "paid off")


def _promise(case_id: int, amount: int, made: date) -> int:
    promise = PromiseToPay(
        case_id=case_id,
        amount_minor=amount,
        currency="CNY",
        promised_on=made + timedelta(days=3),
        made_at=morning(made),
        status=PromiseStatus.PENDING,
    )
    db.session.add(promise)
    db.session.commit()
    return promise.id


def test_a_promise_is_kept_once_payments_since_reach_its_amount(app, loan_in_collections):
    """20,000 then 10,000 against a promise of 30,000: kept at the second payment, same day."""
    _, loan_id = loan_in_collections()
    with app.app_context():
        promise_id = _promise(_case(loan_id).id, 30_000, date(2026, 2, 20))
        pay(loan_id, 20_000, morning(date(2026, 2, 21)))
        assert db.session.get(PromiseToPay, promise_id).status is PromiseStatus.PENDING
        pay(loan_id, 10_000, morning(date(2026, 2, 22)))
        db.session.expire_all()
        promise = db.session.get(PromiseToPay, promise_id)
        assert (promise.status, promise.resolved_on) == (PromiseStatus.KEPT, date(2026, 2, 22))
        assert _case(loan_id).status is CaseStatus.OPEN  # 29,000 is still overdue


def test_payments_before_the_promise_do_not_count(app, loan_in_collections):
    """Only money paid after the promise was made keeps it."""
    _, loan_id = loan_in_collections()
    with app.app_context():
        pay(loan_id, 25_000, morning(date(2026, 2, 20)) - timedelta(hours=1))
        promise_id = _promise(_case(loan_id).id, 10_000, date(2026, 2, 21))
        pay(loan_id, 5_000, morning(date(2026, 2, 22)))
        db.session.expire_all()
        assert db.session.get(PromiseToPay, promise_id).status is PromiseStatus.PENDING


def _paid_then_refunded(loan_id: int, paid_on: date, refunded_on: date) -> CaseChange:
    """The first installment paid on one day, the money taken back on another: what a refund
    does to the ledger (unpaid again, loan active), then its effects; what the case did."""
    pay(loan_id, FIRST_INSTALLMENT, morning(paid_on))
    db.session.execute(
        update(Installment)
        .where(Installment.loan_id == loan_id, Installment.sequence == 1)
        .values(principal_paid=0, interest_paid=0, fee_paid=0)
    )
    db.session.execute(update(Loan).where(Loan.id == loan_id).values(status=LoanStatus.ACTIVE))
    result = effects.after_reversal(loan_id, now=morning(refunded_on))
    db.session.commit()
    return result.case


def test_a_refund_reopens_the_case_the_payment_cured(app, loan_in_collections):
    """Money taken back: the same case opens again, at the stage its days call for."""
    _, loan_id = loan_in_collections()
    with app.app_context():
        change = _paid_then_refunded(loan_id, date(2026, 2, 20), date(2026, 3, 10))
        assert change is CaseChange.REOPENED
        case = _case(loan_id)
        assert (case.status, case.closed_on, case.close_reason) == (CaseStatus.OPEN, None, None)
        assert (case.stage, case.bucket, case.overdue_total) == (2, "1-30", FIRST_INSTALLMENT)
        assert _transitions(case.id)[-1] == ("reopened", "payment reversed")
        assert db.session.get(CollectionPosition, loan_id).days_past_due == 23


def test_a_refund_opens_a_case_where_there_was_none(app, make_user, make_loan):
    """A loan paid before any case was opened, refunded weeks later: a new case, 'opened'."""
    borrower = make_user()
    loan_id = make_loan(borrower.id, disbursed_on=DISBURSED)
    with app.app_context():
        change = _paid_then_refunded(loan_id, date(2026, 2, 10), date(2026, 3, 20))
        assert change is CaseChange.OPENED
        case = _case(loan_id)
        assert (case.status, case.stage, case.bucket) == (CaseStatus.OPEN, 3, "31-60")
        assert case.opened_on == date(2026, 3, 20)
        assert _transitions(case.id) == [("opened", "overdue 33 dpd")]


def test_a_refund_that_leaves_the_loan_current_opens_nothing(app, make_user, make_loan):
    """Money taken back from a loan that is still not overdue: no case."""
    loan_id = make_loan(make_user().id, disbursed_on=DISBURSED)
    with app.app_context():
        change = _paid_then_refunded(loan_id, date(2026, 2, 10), date(2026, 2, 12))
        assert change is CaseChange.NONE
        assert db.session.scalar(select(CollectionCase.id)) is None


def _message(loan_id, borrower_id, purpose, status=MessageStatus.QUEUED, key=None, later=False):
    kind = ContactKind.COLLECTION if purpose.startswith("overdue") else ContactKind.REMINDER
    message = Message(
        idempotency_key=uuid.uuid4().hex,
        dedupe_key=key,
        borrower_id=borrower_id,
        loan_id=loan_id,
        purpose=purpose,
        kind=kind,
        channel=Channel.SMS,
        locale="en",
        status=status,
        not_before=morning(date(2026, 2, 21 if later else 20)),
    )
    db.session.add(message)
    db.session.commit()
    return message.id


def test_waiting_messages_that_are_no_longer_true_are_cancelled(app, loan_in_collections):
    """Paid up: queued and deferred overdue notices and the paid installment's reminder are
    withdrawn with their reason; the next installment's reminder and sent ones stay."""
    borrower_id, loan_id = loan_in_collections()
    with app.app_context():
        first, second = db.session.scalars(
            select(Installment.id).where(Installment.loan_id == loan_id).order_by("sequence")
        ).all()[:2]
        queued = _message(loan_id, borrower_id, "overdue_stage_1")
        deferred = _message(loan_id, borrower_id, "overdue_stage_1", later=True)
        failed = _message(loan_id, borrower_id, "overdue_stage_2", MessageStatus.FAILED)
        sent = _message(loan_id, borrower_id, "overdue_stage_1", MessageStatus.SENT)
        paid_reminder = _message(loan_id, borrower_id, "due_today", key=f"reminder:{first}:0:sms")
        next_reminder = _message(
            loan_id, borrower_id, "pre_due_reminder", key=f"reminder:{second}:3:sms"
        )
        result = pay(loan_id, FIRST_INSTALLMENT, morning(date(2026, 2, 20)))
        assert result.messages_cancelled == 4
        db.session.expire_all()

        def state(message_id):
            message = db.session.get(Message, message_id)
            return message.status, message.cancel_reason

        cancelled = MessageStatus.CANCELLED
        assert state(queued) == (cancelled, "not_overdue")
        assert state(deferred) == (cancelled, "not_overdue")
        assert state(failed) == (cancelled, "not_overdue")
        assert state(paid_reminder) == (cancelled, "installment_paid")
        assert state(sent) == (MessageStatus.SENT, None)
        assert state(next_reminder) == (MessageStatus.QUEUED, None)


def test_a_partial_payment_leaves_the_overdue_notice_queued(app, loan_in_collections):
    """Still overdue after the payment: the notice is still true and still goes."""
    borrower_id, loan_id = loan_in_collections()
    with app.app_context():
        queued = _message(loan_id, borrower_id, "overdue_stage_1")
        assert pay(loan_id, 10_000, morning(date(2026, 2, 20))).messages_cancelled == 0
        db.session.expire_all()
        assert db.session.get(Message, queued).status is MessageStatus.QUEUED


def test_the_same_payment_delivered_twice_has_its_effects_once(app, loan_in_collections):
    """A processor event replayed: the booking returns the first payment, nothing moves again."""
    _, loan_id = loan_in_collections()
    with app.app_context():
        now = morning(date(2026, 2, 20))
        first = pay(loan_id, FIRST_INSTALLMENT, now, reference="pi_once")
        again = pay(loan_id, FIRST_INSTALLMENT, now, reference="pi_once")
        assert (first.case, again.case) == (CaseChange.CURED, CaseChange.NONE)
        assert len(_transitions(_case(loan_id).id)) == 2
