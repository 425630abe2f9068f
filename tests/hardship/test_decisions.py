"""An admin decides a hardship request: the review hold closes, the decision is applied (a
pause, a waiver through the one waiver, a referral to a plan, no change), audited, and the
borrower is told through the outbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.auth.models import Channel, Role, User
from portal.extensions import db
from portal.hardship.decisions import (
    Decision,
    DecisionReasonMissing,
    HardshipAlreadyDecided,
    NothingToWaive,
    OnlyAdminsDecide,
    PauseDaysInvalid,
    PlanTermMissing,
    decide_hardship,
)
from portal.hardship.models import HardshipDecision, HardshipReason, HardshipStatus
from portal.hardship.services import HardshipSettings, declare_hardship
from portal.loans.models import AdjustmentKind, Component, LedgerAdjustment
from portal.messaging.facts import load_borrower_contexts
from portal.messaging.models import ContactHold, Message
from portal.plans.enrollment import OfferUnavailable
from portal.plans.models import PlanStatus, RepaymentPlan
from tests.collections.conftest import NOW
from tests.messaging.conftest import install_defaults

LATER = NOW + timedelta(hours=3)


@pytest.fixture
def pending(app, overdue, make_user):
    """(request id, borrower id, admin id) with the decision texts installed."""
    borrower, loan_id, _ = overdue
    admin = make_user(Role.ADMIN)
    with app.app_context():
        install_defaults(["hardship_decision"], "en")
        request = declare_hardship(
            loan_id,
            borrower=db.session.get(User, borrower.id),
            reason=HardshipReason.ILLNESS,
            details="",
            uploads=[],
            now=NOW,
            settings=HardshipSettings(),
        )
        db.session.commit()
        return request.id, borrower.id, admin.id


def _decide(request_id, admin_id, decision):
    result = decide_hardship(
        request_id, decision, admin=db.session.get(User, admin_id), now=LATER, ip_address=None
    )
    db.session.commit()
    return result


def test_a_pause_closes_the_review_and_holds_contact_for_n_days(app, pending):
    request_id, borrower_id, admin_id = pending
    with app.app_context():
        request = _decide(request_id, admin_id, Decision(HardshipDecision.PAUSE, "Ill", 30))
        assert request.status is HardshipStatus.DECIDED
        assert db.session.get(ContactHold, request.hold_id).closed_at == LATER
        contexts = load_borrower_contexts({borrower_id}, LATER + timedelta(days=29))
        assert contexts[borrower_id].open_holds == ("hardship_review",)
        contexts = load_borrower_contexts({borrower_id}, LATER + timedelta(days=30, seconds=1))
        assert contexts[borrower_id].open_holds == ()


def test_a_waiver_waives_the_overdue_interest_through_the_one_waiver(app, pending):
    request_id, _, admin_id = pending
    with app.app_context():
        request = _decide(
            request_id,
            admin_id,
            Decision(HardshipDecision.WAIVER, "Hospital bills", components=(Component.INTEREST,)),
        )
        adjustments = db.session.scalars(select(LedgerAdjustment)).all()
        assert adjustments
        assert all(a.kind is AdjustmentKind.WAIVER for a in adjustments)
        assert sum(a.amount_minor for a in adjustments) == request.waived_minor > 0


def test_a_waiver_with_nothing_to_waive_is_refused_and_keeps_the_review(app, pending):
    request_id, _, admin_id = pending
    with app.app_context():
        with pytest.raises(NothingToWaive):
            _decide(
                request_id,
                admin_id,
                Decision(HardshipDecision.WAIVER, "x", components=(Component.LATE_CHARGE,)),
            )
        db.session.rollback()
        assert db.session.scalar(select(ContactHold.closed_at)) is None


@pytest.mark.parametrize(
    "decision",
    [
        Decision(HardshipDecision.PLAN, "We can offer a 6-month plan.", plan_term="6-monthly"),
        Decision(HardshipDecision.NO_CHANGE, "We can offer a 6-month plan."),
    ],
)
def test_plan_and_no_change_tell_the_borrower(app, pending, decision):
    request_id, borrower_id, admin_id = pending
    with app.app_context():
        _decide(request_id, admin_id, decision)
        messages = db.session.scalars(
            select(Message).where(Message.borrower_id == borrower_id)
        ).all()
        assert {m.channel for m in messages} == {Channel.PORTAL, Channel.EMAIL}
        assert all("6-month plan" in m.body_text for m in messages)
        assert db.session.scalar(
            select(AuditEvent.id).where(AuditEvent.action == "hardship.decided")
        )


def test_a_tailored_plan_is_proposed_and_waits_for_the_borrowers_consent(app, pending):
    """The admin's plan is a proposal on the loan: priced now, consented by nobody yet."""
    request_id, _, admin_id = pending
    with app.app_context():
        request = _decide(
            request_id,
            admin_id,
            Decision(HardshipDecision.PLAN, "Six months.", plan_term="6-monthly"),
        )
        plan = db.session.scalar(select(RepaymentPlan))
        assert plan.loan_id == request.loan_id
        assert plan.status is PlanStatus.PROPOSED
        assert (plan.installment_count, plan.proposed_by) == (6, admin_id)
        assert plan.consented_at is None


@pytest.mark.parametrize(
    ("decision", "error"),
    [
        (Decision(HardshipDecision.PLAN, "Six months."), PlanTermMissing),
        (Decision(HardshipDecision.PLAN, "x", plan_term="7-weekly"), OfferUnavailable),
        (Decision(HardshipDecision.NO_CHANGE, "  "), DecisionReasonMissing),
        (Decision(HardshipDecision.PAUSE, "x", 0), PauseDaysInvalid),
        (Decision(HardshipDecision.PAUSE, "x", 91), PauseDaysInvalid),
    ],
)
def test_incomplete_decisions_are_refused(app, pending, decision, error):
    request_id, _, admin_id = pending
    with app.app_context(), pytest.raises(error):
        _decide(request_id, admin_id, decision)


def test_a_request_is_decided_once_and_only_by_an_admin(app, pending, make_user):
    request_id, _, admin_id = pending
    collector = make_user(Role.COLLECTOR)
    with app.app_context():
        with pytest.raises(OnlyAdminsDecide):
            _decide(request_id, collector.id, Decision(HardshipDecision.NO_CHANGE, "x"))
        _decide(request_id, admin_id, Decision(HardshipDecision.NO_CHANGE, "x"))
        with pytest.raises(HardshipAlreadyDecided):
            _decide(request_id, admin_id, Decision(HardshipDecision.NO_CHANGE, "y"))
