"""Contact about a loan in a plan: the guard pauses collection contact (rule "in_plan") and
lets reminders and required notices through; plan installments get the plan's reminder."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from portal.auth.models import Channel
from portal.extensions import db
from portal.loans.models import Installment
from portal.messaging.guard import ContactFacts, Outcome, decide
from portal.messaging.models import ContactKind, Message, MessageStatus
from portal.messaging.outbox import enqueue
from portal.messaging.reminders import generate_reminders
from portal.messaging.rulebooks import BUILT_IN
from tests.messaging.conftest import install_defaults
from tests.plans.conftest import NOW, consent, save_policy

CN = BUILT_IN["CN"]
OVERDUE = {
    "loan_reference": "LN-T00001",
    "days_past_due": "136",
    "amount_overdue": "¥2,730.05",
    "principal_overdue": "¥2,500.00",
    "interest_overdue": "¥200.00",
    "fees_overdue": "¥30.00",
    "due_dates": "2026-07-15",
    "late_charges_overdue": "",
    "pay_url": "http://localhost/loans/1",
    "plans_url": "http://localhost/loans/1/plans",
}


@pytest.mark.parametrize(
    ("kind", "in_plan", "outcome", "rule"),
    [
        (ContactKind.COLLECTION, True, Outcome.BLOCK, "in_plan"),
        (ContactKind.COLLECTION, False, Outcome.SEND, "allowed"),
        (ContactKind.REMINDER, True, Outcome.SEND, "allowed"),
        (ContactKind.REQUIRED_NOTICE, True, Outcome.SEND, "required_notice"),
    ],
)
def test_the_guard_pauses_only_collection_contact_for_a_loan_in_plan(kind, in_plan, outcome, rule):
    decision = decide(
        kind=kind,
        channel=Channel.EMAIL,
        now=NOW,  # 10:00 in Shanghai, inside every window
        facts=ContactFacts("Asia/Shanghai", in_plan=in_plan),
        rules=CN,
    )
    assert (decision.outcome, decision.rule) == (outcome, rule)


def _in_plan(plan_loan) -> None:
    save_policy(down_payment_kind="none")
    consent(plan_loan)
    db.session.commit()


def test_a_collection_notice_for_a_loan_in_plan_is_blocked(plan_loan, make_loan):
    """Blocked with the rule for the loan in plan; the borrower's other loan is not paused."""
    _in_plan(plan_loan)
    other_loan = make_loan(plan_loan.borrower_id)
    notices = {
        loan_id: enqueue(
            borrower_id=plan_loan.borrower_id,
            purpose_code="overdue_stage_1",
            channel=Channel.EMAIL,
            variables=OVERDUE,
            now=NOW,
            loan_id=loan_id,
        )
        for loan_id in (plan_loan.loan_id, other_loan)
    }
    db.session.commit()
    paused = notices[plan_loan.loan_id]
    assert (paused.status, paused.blocked_rule) == (MessageStatus.BLOCKED, "in_plan")
    assert notices[other_loan].status is MessageStatus.QUEUED


def test_plan_installments_get_the_plan_reminder_with_their_position(plan_loan):
    _in_plan(plan_loan)
    install_defaults(("pre_due_reminder", "due_today"), "en", NOW)
    db.session.commit()
    ours = list(
        db.session.scalars(
            select(Installment)
            .where(Installment.loan_id == plan_loan.loan_id, Installment.plan_id.is_not(None))
            .order_by(Installment.due_date)
        )
    )
    second = ours[1]
    # 10:00 in Shanghai three days before the plan's second installment.
    day = second.due_date.toordinal() - 3
    report = generate_reminders(datetime.fromordinal(day).replace(hour=2, tzinfo=UTC))
    db.session.commit()
    assert report.queued >= 1
    reminders = list(
        db.session.scalars(select(Message).where(Message.loan_id == plan_loan.loan_id))
    )
    reminders = [m for m in reminders if m.purpose in ("plan_reminder", "pre_due_reminder")]
    assert {m.purpose for m in reminders} == {"plan_reminder"}
    # Not paused by the plan (no phone on file: the text message has no address).
    assert {m.channel: m.status for m in reminders if m.channel is not Channel.SMS} == {
        Channel.PORTAL: MessageStatus.QUEUED,
        Channel.EMAIL: MessageStatus.QUEUED,
    }
    assert all(f"2/{len(ours)}" in m.body_text for m in reminders)


def test_the_runs_contacts_queue_no_collection_message_for_a_loan_in_plan(plan_loan):
    """Two days after a missed plan installment (within the grace days) the case is due a
    contact: the overdue notice is blocked by the plan, none is queued."""
    from datetime import date

    from portal.collections.run import run_collections
    from portal.messaging.default_templates import install_default_templates

    _in_plan(plan_loan)
    install_default_templates(now=NOW)
    db.session.commit()
    day = date(2026, 12, 30)
    run_collections(day, now=datetime(2026, 12, 30, 2, 0, tzinfo=UTC), contacts=True)
    collection = list(
        db.session.scalars(
            select(Message).where(
                Message.loan_id == plan_loan.loan_id, Message.kind == ContactKind.COLLECTION
            )
        )
    )
    assert collection  # the case was due a contact and the run tried
    assert {m.status for m in collection} == {MessageStatus.BLOCKED}
    # The text message has no phone to go to; every channel with an address is paused.
    assert {m.blocked_rule for m in collection if m.channel is not Channel.SMS} == {"in_plan"}
