"""The plan policy page: admins edit, collectors view, versions never rewritten, audited,
validation with clear errors, zh_CN and en."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.auth.models import Role
from portal.extensions import db
from portal.plans.models import PlanPolicyVersion
from portal.plans.schedule import Frequency
from portal.plans.services import current_plan_policy
from tests.conftest import csrf_token, login, page_text
from tests.plans.conftest import POLICY_URL, policy_form


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(PlanPolicyVersion)) or 0


def test_shows_the_default_policy(admin):
    response = admin.get(POLICY_URL)
    assert response.status_code == 200
    text = page_text(response)
    assert "Built-in defaults in force (version 0)" in text
    assert "Never changed" in text
    assert 'value="3000"' in response.get_data(as_text=True)  # 30 % affordable share


def test_saving_adds_versions_and_keeps_the_old_ones(app, admin):
    terms = [
        {
            "installments": 4,
            "frequency": "biweekly",
            "late_charge_waiver_bps": 10_000,
            "interest_waiver_bps": 500,
        },
    ]
    first = admin.post(POLICY_URL, data=policy_form(csrf_token(admin, POLICY_URL), terms=terms))
    assert first.status_code == 303
    second = admin.post(
        POLICY_URL,
        data=policy_form(csrf_token(admin, POLICY_URL), base_version=1, affordability_bps=2500),
    )
    assert second.status_code == 303
    with app.app_context():
        rows = db.session.scalars(select(PlanPolicyVersion).order_by("version")).all()
        assert [
            (r.version, len(r.settings["terms"]), r.settings["affordability_bps"]) for r in rows
        ] == [
            (1, 1, 3000),
            (2, 4, 2500),
        ]
        assert rows[0].settings["terms"][0]["frequency"] == "biweekly"
        policy = current_plan_policy()
        assert policy.version == 2
        assert policy.terms[3].frequency is Frequency.BIWEEKLY
        audits = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "plan_policy.saved")
        ).all()
        assert [a.details["version"] for a in audits] == [1, 2]
    history = page_text(admin.get(POLICY_URL))
    assert "Version 2 in force" in history
    assert "Ada Admin" in history
    assert "4 installments, Every two weeks" in history


def test_a_stale_form_is_refused_and_kept(app, admin):
    admin.post(POLICY_URL, data=policy_form(csrf_token(admin, POLICY_URL), max_plans_per_year=3))
    stale = admin.post(
        POLICY_URL, data=policy_form(csrf_token(admin, POLICY_URL), max_plans_per_year=7)
    )
    assert stale.status_code == 409
    assert 'value="7"' in stale.get_data(as_text=True)
    assert _count(app) == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"min_days_past_due": 90, "max_days_past_due": 30}, "most days past due cannot be below"),
        ({"down_payment_kind": "fixed", "down_payment_fixed_minor": 0}, "fixed down payment"),
        ({"affordability_bps": 0}, "affordable share"),
        ({"terms": []}, "Offer between 1 and 6 terms."),
        (
            {
                "terms": [
                    {
                        "installments": 1,
                        "frequency": "monthly",
                        "late_charge_waiver_bps": 0,
                        "interest_waiver_bps": 0,
                    }
                ]
            },
            "Term 1: 2 to 60 installments.",
        ),
        (
            {
                "terms": [
                    {
                        "installments": 3,
                        "frequency": "monthly",
                        "late_charge_waiver_bps": 10_001,
                        "interest_waiver_bps": 0,
                    }
                ]
            },
            "waivers are 0 to 10,000 basis points",
        ),
    ],
)
def test_invalid_policies_are_not_saved(app, admin, changes, message):
    response = admin.post(POLICY_URL, data=policy_form(csrf_token(admin, POLICY_URL), **changes))
    assert response.status_code == 422
    text = page_text(response)
    assert "The policy was not saved" in text
    assert message in text
    assert _count(app) == 0


def test_typed_text_is_a_field_error(app, admin):
    data = policy_form(csrf_token(admin, POLICY_URL))
    data["min_balance_minor"] = "lots"
    data["terms-0-installments"] = "three"
    response = admin.post(POLICY_URL, data=data)
    assert response.status_code == 422
    assert "Please enter a whole number." in page_text(response)
    assert _count(app) == 0


def test_collectors_view_but_do_not_save(app, client, make_user):
    login(client, make_user(Role.COLLECTOR, locale="en"))
    response = client.get(POLICY_URL)
    assert response.status_code == 200
    assert "Only administrators change the plan policy." in page_text(response)
    assert 'data-testid="save-policy"' not in response.get_data(as_text=True)
    token = csrf_token(client, "/staff/")
    assert client.post(POLICY_URL, data=policy_form(token)).status_code in (403, 404)
    assert _count(app) == 0


@pytest.mark.parametrize("role", [Role.BORROWER, Role.AGENT])
def test_borrowers_and_agents_are_refused(app, client, make_user, role):
    login(client, make_user(role, locale="en"))
    assert client.get(POLICY_URL).status_code in (403, 404)
    token = csrf_token(client, "/" if role is Role.BORROWER else "/staff/")
    assert client.post(POLICY_URL, data=policy_form(token)).status_code in (403, 404)
    assert _count(app) == 0


def test_page_in_chinese(client, make_user):
    login(client, make_user(Role.ADMIN, locale="zh_CN"))
    text = page_text(client.get(POLICY_URL))
    assert "还款计划政策" in text
    assert "每月" in text
