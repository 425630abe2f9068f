"""The late-charge policy page: admins only, versions never rewritten, audited, zh_CN and en."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.auth.models import Role
from portal.extensions import db
from portal.loans.charges.models import ChargePolicy
from portal.loans.charges.services import DEFAULT_POLICY, current_policy
from portal.loans.models import LoanProduct
from tests.conftest import csrf_token, login, page_text

URL = "/staff/loans/charges"


def form_of(token: str, *, base_version: int = 0, **changes) -> dict:
    """What a browser sends for the default policy with ``changes``."""
    values = {**DEFAULT_POLICY, **changes}
    data = {"csrf_token": token, "base_version": str(base_version)}
    for name in (
        "grace_days",
        "late_fee_kind",
        "late_fee_flat_minor",
        "late_fee_bps",
        "penalty_bps_per_day",
        "cap_annual_bps",
    ):
        data[name] = str(values[name])
    for index, code in enumerate(values["waterfall"]):
        data[f"waterfall-{index}"] = code
    return data


@pytest.fixture
def admin(client, make_user):
    login(client, make_user(Role.ADMIN, locale="en", name="Ada Admin"))
    return client


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ChargePolicy)) or 0


def test_shows_the_default_policy(admin):
    """Version 0: the 24 % cap, no late fee, the default payment order."""
    response = admin.get(URL)
    assert response.status_code == 200
    text = page_text(response)
    assert "Built-in defaults in force (version 0)" in text
    assert 'value="2400"' in response.get_data(as_text=True)
    assert "Never changed" in text


def test_saving_adds_versions_and_keeps_the_old_ones(app, admin):
    """Each save is the next version; the first stays as it was; both are audited."""
    first = admin.post(
        URL + "/wallet_cash",
        data=form_of(csrf_token(admin, URL), late_fee_kind="flat", late_fee_flat_minor=5_000),
    )
    assert first.status_code == 303
    second = admin.post(
        URL + "/wallet_cash",
        data=form_of(
            csrf_token(admin, URL),
            base_version=1,
            penalty_bps_per_day=5,
            cap_annual_bps=1800,
            waterfall=["principal", "interest", "fee", "late_charge"],
        ),
    )
    assert second.status_code == 303
    with app.app_context():
        rows = db.session.scalars(select(ChargePolicy).order_by(ChargePolicy.version)).all()
        assert [(r.version, r.late_fee_flat_minor, r.cap_annual_bps) for r in rows] == [
            (1, 5_000, 2400),
            (2, 0, 1800),
        ]
        policy = current_policy(LoanProduct.WALLET_CASH)
        assert policy.version == 2
        assert [c.value for c in policy.waterfall] == [
            "principal",
            "interest",
            "fee",
            "late_charge",
        ]
        assert current_policy(LoanProduct.BUY_NOW_PAY_LATER).version == 0  # per product
        audits = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "charge_policy.saved")
        ).all()
        assert [a.details["version"] for a in audits] == [1, 2]
    history = page_text(admin.get(URL))
    assert "Version 2 in force" in history
    assert "Ada Admin" in history


def test_a_stale_form_is_refused_and_kept(app, admin):
    """Saving over a version someone else replaced is refused (409) with the input kept."""
    admin.post(URL + "/wallet_cash", data=form_of(csrf_token(admin, URL), grace_days=2))
    stale = admin.post(URL + "/wallet_cash", data=form_of(csrf_token(admin, URL), grace_days=9))
    assert stale.status_code == 409
    assert 'value="9"' in stale.get_data(as_text=True)
    assert _count(app) == 1


@pytest.mark.parametrize(
    "changes",
    [
        {"grace_days": 61},
        {"late_fee_kind": "flat", "late_fee_flat_minor": 0},
        {"late_fee_kind": "percent", "late_fee_bps": 0},
        {"penalty_bps_per_day": 10_001},
        {"waterfall": ["fee", "fee", "interest", "principal"]},
    ],
)
def test_invalid_policies_are_not_saved(app, admin, changes):
    """Out-of-range or contradictory values: 422, the reason listed, nothing stored."""
    response = admin.post(URL + "/wallet_cash", data=form_of(csrf_token(admin, URL), **changes))
    assert response.status_code == 422
    assert "The policy was not saved" in page_text(response)
    assert _count(app) == 0


def test_typed_text_is_a_field_error(app, admin):
    """A number field given words answers 422 with the field's error, not a crash."""
    data = form_of(csrf_token(admin, URL))
    data["cap_annual_bps"] = "lots"
    response = admin.post(URL + "/wallet_cash", data=data)
    assert response.status_code == 422
    assert _count(app) == 0


def test_unknown_product_is_404(admin):
    """A product that does not exist is not found."""
    assert admin.get(URL, query_string={"product": "mortgage"}).status_code == 404
    assert admin.post(URL + "/mortgage", data=form_of(csrf_token(admin, URL))).status_code == 404


@pytest.mark.parametrize("role", [Role.BORROWER, Role.AGENT, Role.COLLECTOR])
def test_only_admins_see_or_save_the_policy(app, client, make_user, role):
    """Borrowers, agents and collectors are refused the page and the save."""
    login(client, make_user(role, locale="en"))
    assert client.get(URL).status_code in (403, 404)
    token = csrf_token(client, "/" if role is Role.BORROWER else "/staff/")
    assert client.post(URL + "/wallet_cash", data=form_of(token)).status_code in (403, 404)
    assert _count(app) == 0


def test_page_in_chinese(client, make_user):
    """A zh_CN admin reads the page in Chinese."""
    login(client, make_user(Role.ADMIN, locale="zh_CN"))
    text = page_text(client.get(URL))
    assert "逾期费用" in text
    assert "宽限期" in text
