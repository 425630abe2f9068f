"""Plan fixtures: an admin client and what a browser sends for the plan policy form."""

from __future__ import annotations

import pytest

from portal.auth.models import Role
from portal.plans.policy import DEFAULT_SETTINGS, MAX_TERMS
from tests.conftest import login

POLICY_URL = "/staff/plans/policy"


def policy_form(token: str, *, base_version: int = 0, **changes) -> dict:
    """The form fields for the default policy with ``changes`` (terms: list of dicts)."""
    values = {**DEFAULT_SETTINGS, **changes}
    data = {"csrf_token": token, "base_version": str(base_version)}
    for name, value in values.items():
        if name != "terms":
            data[name] = str(value)
    for index in range(MAX_TERMS):
        term = values["terms"][index] if index < len(values["terms"]) else None
        for key in ("installments", "frequency", "late_charge_waiver_bps", "interest_waiver_bps"):
            data[f"terms-{index}-{key}"] = "" if term is None else str(term[key])
        if term is None:
            data[f"terms-{index}-frequency"] = "monthly"
    return data


@pytest.fixture
def admin(client, make_user):
    login(client, make_user(Role.ADMIN, locale="en", name="Ada Admin"))
    return client
