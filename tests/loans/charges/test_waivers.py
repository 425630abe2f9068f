"""Staff waive late charges from the case page: oldest installment first, with a reason,
audited, on the timeline; never more than is owed; only staff who may open the case."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.auth.models import Role
from portal.collections.models import CollectionCase
from portal.extensions import db
from portal.loans.models import AdjustmentKind, Component, Installment, LedgerAdjustment
from tests.collections.conftest import NOW, freeze, make_case
from tests.conftest import csrf_token, login, page_text


@pytest.fixture
def setup(app, make_user, plain_loan, monkeypatch):
    """A loan with late charges of 30.00 and 20.00 on its two overdue installments (5.00 of the
    first already paid), and its case assigned to a collector."""
    borrower = make_user(Role.BORROWER, locale="en", name="Wang Fang")
    collector = make_user(Role.COLLECTOR, locale="en", name="Cora Collector")
    loan_id = plain_loan(
        [(date(2026, 9, 1), 50_000, 0, 0), (date(2026, 10, 1), 50_000, 0, 0)],
        borrower_id=borrower.id,
    )
    with app.app_context():
        first, second = db.session.scalars(
            select(Installment).where(Installment.loan_id == loan_id).order_by(Installment.sequence)
        ).all()
        first.late_charge_due, first.late_charge_paid = 3_000, 500
        second.late_charge_due = 2_000
        db.session.commit()
    case_id = make_case(app, borrower_id=borrower.id, loan_id=loan_id, assigned_to=collector.id)
    with app.app_context():
        db.session.get(CollectionCase, case_id).overdue_late_charge = 4_500
        db.session.commit()
    freeze(monkeypatch, NOW)
    return {"loan_id": loan_id, "case_id": case_id, "collector": collector}


def waive(client, case_id: int, amount: str, reason: str = "Hospital stay, documented"):
    page = f"/staff/collections/cases/{case_id}"
    return client.post(
        f"{page}/late-charges/waive",
        data={
            "waiver-amount": amount,
            "waiver-reason": reason,
            "csrf_token": csrf_token(client, page),
        },
    )


def late_charges(app, loan_id: int) -> list[tuple[int, int]]:
    with app.app_context():
        return [
            (i.late_charge_due, i.late_charge_paid)
            for i in db.session.scalars(
                select(Installment)
                .where(Installment.loan_id == loan_id)
                .order_by(Installment.sequence)
            )
        ]


def test_collector_waives_oldest_first_with_reason_audit_and_timeline(app, client, setup):
    """30.00 waived of 45.00 owed: the first installment's 25.00, then 5.00 of the second."""
    login(client, setup["collector"])
    response = waive(client, setup["case_id"], "30.00")
    assert response.status_code == 303
    assert late_charges(app, setup["loan_id"]) == [(500, 500), (1_500, 0)]
    with app.app_context():
        adjustments = db.session.scalars(select(LedgerAdjustment).order_by(LedgerAdjustment.id))
        assert [
            (a.amount_minor, a.component, a.kind, a.reason, a.actor_id) for a in adjustments
        ] == [
            (
                2_500,
                Component.LATE_CHARGE,
                AdjustmentKind.WAIVER,
                "Hospital stay, documented",
                setup["collector"].id,
            ),
            (
                500,
                Component.LATE_CHARGE,
                AdjustmentKind.WAIVER,
                "Hospital stay, documented",
                setup["collector"].id,
            ),
        ]
        audits = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "ledger.adjusted")
        ).all()
        assert len(audits) == 2
        assert db.session.get(CollectionCase, setup["case_id"]).overdue_late_charge == 1_500
    text = page_text(client.get(f"/staff/collections/cases/{setup['case_id']}"))
    assert "Hospital stay, documented" in text
    assert "Waived" in text


@pytest.mark.parametrize("amount", ["45.01", "0", "-1.00", "abc", "1.001"])
def test_refused_amounts_change_nothing(app, client, setup, amount):
    """More than owed, zero, negative or not an amount: 422, the form kept, nothing waived."""
    login(client, setup["collector"])
    response = waive(client, setup["case_id"], amount)
    assert response.status_code == 422
    assert late_charges(app, setup["loan_id"]) == [(3_000, 500), (2_000, 0)]
    with app.app_context():
        assert db.session.scalars(select(LedgerAdjustment)).first() is None


def test_a_reason_is_required(app, client, setup):
    """No reason, no waiver."""
    login(client, setup["collector"])
    assert waive(client, setup["case_id"], "10.00", reason="   ").status_code == 422
    assert late_charges(app, setup["loan_id"]) == [(3_000, 500), (2_000, 0)]


def test_waiving_everything_owed(app, client, setup):
    """Exactly what is owed can be waived; paid late charges stay paid."""
    login(client, setup["collector"])
    assert waive(client, setup["case_id"], "45.00").status_code == 303
    assert late_charges(app, setup["loan_id"]) == [(500, 500), (0, 0)]


def test_admin_may_waive(app, client, make_user, setup):
    """Admins waive on any case."""
    login(client, make_user(Role.ADMIN, locale="en"))
    assert waive(client, setup["case_id"], "1.00").status_code == 303


def test_another_collector_is_refused(app, client, make_user, setup):
    """A collector the case is not assigned to cannot waive on it."""
    login(client, make_user(Role.COLLECTOR, locale="en"))
    assert waive(client, setup["case_id"], "1.00").status_code in (403, 404)
    assert late_charges(app, setup["loan_id"]) == [(3_000, 500), (2_000, 0)]


@pytest.mark.parametrize("role", [Role.BORROWER, Role.AGENT])
def test_borrowers_and_agents_are_refused(app, client, make_user, setup, role):
    """Only collectors and admins reach the waiver."""
    login(client, make_user(role, locale="en"))
    token = csrf_token(client, "/" if role is Role.BORROWER else "/staff/")
    response = client.post(
        f"/staff/collections/cases/{setup['case_id']}/late-charges/waive",
        data={"waiver-amount": "1.00", "waiver-reason": "x", "csrf_token": token},
    )
    assert response.status_code in (403, 404)
    assert late_charges(app, setup["loan_id"]) == [(3_000, 500), (2_000, 0)]


def test_case_page_in_chinese_shows_late_charges_and_the_waiver(app, client, make_user, setup):
    """A zh_CN collector sees the late charges and the waiver form in Chinese."""
    login(client, make_user(Role.ADMIN, locale="zh_CN"))
    text = page_text(client.get(f"/staff/collections/cases/{setup['case_id']}"))
    assert "减免逾期费用" in text
    assert "¥45.00" in text
