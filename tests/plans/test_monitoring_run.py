"""Broken plans in the daily run: broken by the plan step, told with the run's contacts (once,
and only by a run for today), audited per plan."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.auth.models import Channel, Role
from portal.collections.run import run_collections
from portal.extensions import db
from portal.loans.models import Installment, Loan
from portal.messaging.default_templates import default_for
from portal.messaging.models import Message
from portal.messaging.templates import save_version
from portal.plans.models import PlanStatus, RepaymentPlan
from portal.plans.monitoring import settle_plans
from portal.plans.schedule import Frequency

AS_OF = date(2026, 11, 28)
PLAN_DUE = AS_OF - timedelta(days=6)  # unpaid more than the default 5 grace days on AS_OF


def morning(day: date) -> datetime:
    """10:00 in Shanghai on ``day``: inside every rulebook's contact window."""
    return datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)


@pytest.fixture
def late_plan(app, make_user, make_loan):
    """An active plan (its borrower speaks English) whose one installment is 6 days late; the
    loan's own installments are not due yet. The plan_broken templates are installed."""
    borrower = make_user(Role.BORROWER, locale="en")
    loan_id = make_loan(borrower.id, disbursed_on=AS_OF - timedelta(days=10))
    with app.app_context():
        for channel in (Channel.PORTAL, Channel.EMAIL):
            subject, body = default_for("plan_broken", channel, "en")
            save_version(
                purpose_code="plan_broken",
                channel=channel,
                locale="en",
                subject=subject,
                body_text=body,
                body_html=None,
                actor_id=None,
                now=morning(AS_OF - timedelta(days=30)),
            )
        loan = db.session.get_one(Loan, loan_id)
        plan = RepaymentPlan(
            loan_id=loan_id,
            borrower_id=borrower.id,
            status=PlanStatus.ACTIVE,
            policy_version=0,
            installment_count=1,
            frequency=Frequency.MONTHLY,
            currency="CNY",
            balance_minor=10_000,
            financed_minor=10_000,
            start_on=PLAN_DUE - timedelta(days=30),
            schedule=[{"due_date": PLAN_DUE.isoformat(), "amount_minor": 10_000}],
            created_at=morning(PLAN_DUE - timedelta(days=30)),
        )
        db.session.add(plan)
        db.session.flush()
        db.session.add(
            Installment(
                loan_id=loan_id,
                sequence=len(loan.installments) + 1,
                due_date=PLAN_DUE,
                principal_due=10_000,
                plan_id=plan.id,
            )
        )
        db.session.commit()
        return plan.id


def notices(plan_id: int) -> list[tuple[str, str]]:
    """The plan's plan_broken messages: (channel, dedupe key)."""
    db.session.expire_all()
    rows = db.session.execute(
        select(Message.channel, Message.dedupe_key)
        .where(
            Message.purpose == "plan_broken", Message.dedupe_key.like(f"plan_broken:{plan_id}:%")
        )
        .order_by(Message.channel)
    ).all()
    return [(str(channel), key) for channel, key in rows]


def status_of(plan_id: int) -> PlanStatus:
    db.session.expire_all()
    return db.session.get_one(RepaymentPlan, plan_id).status


def test_todays_run_breaks_the_plan_and_tells_the_borrower_with_its_contacts(app, late_plan):
    """The run for today breaks the plan and, with its contacts, tells by portal and email."""
    with app.app_context():
        report = run_collections(AS_OF, now=morning(AS_OF), contacts=True)
        assert (report.plans_broken, report.plans_told) == (1, 1)
        assert status_of(late_plan) is PlanStatus.BROKEN
        assert notices(late_plan) == [
            ("email", f"plan_broken:{late_plan}:email"),
            ("portal", f"plan_broken:{late_plan}:portal"),
        ]


def test_a_run_without_contacts_tells_nobody_and_the_next_run_that_contacts_tells_once(
    app, late_plan
):
    """Broken by a run without contacts: told by the next day's run, and not again."""
    with app.app_context():
        report = run_collections(AS_OF, now=morning(AS_OF), contacts=False)
        assert (report.plans_broken, report.plans_told) == (1, 0)
        assert status_of(late_plan) is PlanStatus.BROKEN
        assert notices(late_plan) == []

        day = AS_OF + timedelta(days=1)
        report = run_collections(day, now=morning(day), contacts=True)
        assert (report.plans_broken, report.plans_told) == (0, 1)
        again = run_collections(day, now=morning(day) + timedelta(hours=1), contacts=True)
        assert again.plans_told == 0
        assert len(notices(late_plan)) == 2


def test_a_run_for_an_earlier_date_breaks_the_plan_but_contacts_nobody(app, late_plan):
    """A run catching up on yesterday breaks the plan; nobody is contacted in the past."""
    with app.app_context():
        report = run_collections(AS_OF, now=morning(AS_OF + timedelta(days=1)), contacts=True)
        assert (report.plans_broken, report.plans_told) == (1, 0)
        assert notices(late_plan) == []


def test_settling_plans_outside_the_run_tells_at_once_and_audits_each_plan(app, late_plan):
    """settle_plans on its own (notify by default) tells the borrower; each end is audited."""
    with app.app_context():
        report = settle_plans(AS_OF, morning(AS_OF))
        db.session.commit()
        assert report.broken == [late_plan]
        assert len(notices(late_plan)) == 2
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "plan.broken")
        ).one()
        loan_id = db.session.get_one(RepaymentPlan, late_plan).loan_id
        assert (event.object_type, event.object_id) == ("repayment_plan", str(late_plan))
        assert event.details == {"loan": loan_id, "reason": "missed_payment"}
