"""The plan policy in force, its history, saving a new version (audited ``plan_policy.saved``),
and the offers for a loan under it.

One policy applies to every loan; each save stores the next version (none is ever edited). With
no saved version, ``policy.DEFAULT_SETTINGS`` is version 0 (seeded lazily, not by the
migration).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.audit.services import record as audit
from portal.auth.models import User
from portal.collections.models import Assessment
from portal.domain import DomainError
from portal.extensions import db
from portal.loans.charges.services import PolicyChanged
from portal.loans.services import LoanPosition
from portal.plans.models import PlanPolicyVersion
from portal.plans.offers import (
    Ineligible,
    Offer,
    balance_of,
    ineligibility,
    make_offers,
    monthly_capacity,
)
from portal.plans.policy import DEFAULT_SETTINGS, PlanPolicy, policy_of, validate_settings


class InvalidPlanPolicy(DomainError):
    status_code = 422
    message = _l("The plan policy is not valid.")

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


def current_plan_policy() -> PlanPolicy:
    """The newest saved version, or the built-in defaults as version 0."""
    row = db.session.scalars(
        select(PlanPolicyVersion).order_by(PlanPolicyVersion.version.desc()).limit(1)
    ).first()
    return policy_of(row.version, row.settings) if row else policy_of(0, DEFAULT_SETTINGS)


def plan_policy_history() -> list[tuple[PlanPolicy, datetime, str | None]]:
    """The saved versions, newest first, with when and by whom. One query."""
    rows = db.session.execute(
        select(PlanPolicyVersion, User.name)
        .outerjoin(User, User.id == PlanPolicyVersion.created_by)
        .order_by(PlanPolicyVersion.version.desc())
    ).all()
    return [(policy_of(row.version, row.settings), row.created_at, name) for row, name in rows]


def save_plan_policy(
    settings: dict,
    *,
    expected_version: int | None,
    actor_id: int,
    now: datetime,
    ip_address: str | None,
) -> PlanPolicy:
    """Store ``settings`` as the next version; audit ``plan_policy.saved``.

    Raises InvalidPlanPolicy (``.errors``) before writing anything, and PolicyChanged when
    the version in force is no longer ``expected_version`` or another admin took the same
    version number at the same moment (roll the session back). Flushes; the caller commits.
    """
    errors = validate_settings(settings)
    if errors:
        raise InvalidPlanPolicy(errors)
    previous = current_plan_policy().version
    if expected_version is not None and previous != expected_version:
        raise PolicyChanged()
    saved = policy_of(previous + 1, settings)
    row = PlanPolicyVersion(
        version=saved.version, settings=saved.settings(), created_by=actor_id, created_at=now
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError as error:
        raise PolicyChanged() from error
    audit(
        "plan_policy.saved",
        now=now,
        actor_id=actor_id,
        object_type="plan_policy",
        object_id=saved.version,
        details={"version": saved.version, "previous_version": previous, "settings": row.settings},
        ip_address=ip_address,
    )
    return saved


@dataclass(frozen=True)
class LoanOffers:
    """What a loan may be offered today: the reason it may not, or its offers."""

    policy: PlanPolicy
    reason: Ineligible | None
    offers: list[Offer]
    capacity_minor: int | None


def offers_for(
    position: LoanPosition,
    *,
    capacity_minor: int | None,
    start: date,
    active_plan: bool = False,
    plans_last_year: int = 0,
) -> LoanOffers:
    """The offers for the loan at ``position`` under the policy in force, from ``start`` (the
    borrower's local today). ``active_plan`` and ``plans_last_year`` are the loan's plans
    (enrollment supplies them; until it exists no loan has any)."""
    policy = current_plan_policy()
    balance = balance_of(position)
    reason = ineligibility(
        balance, policy, active_plan=active_plan, plans_last_year=plans_last_year
    )
    offers = (
        [] if reason else make_offers(balance, policy, start=start, capacity_minor=capacity_minor)
    )
    return LoanOffers(policy=policy, reason=reason, offers=offers, capacity_minor=capacity_minor)


@dataclass(frozen=True)
class CaseOffers:
    """The case loan's offers as a collector sees them, sized by the latest assessment."""

    plans: LoanOffers
    assessment: Assessment | None
    # What the capacity came from: "can_pay" (what the collector assessed the borrower can pay
    # a month), "income" (the policy's share of the assessed income, no expenses known), None.
    basis: str | None


def offers_for_case(
    case_id: int,
    position: LoanPosition,
    *,
    start: date,
    active_plan: bool = False,
    plans_last_year: int = 0,
) -> CaseOffers:
    """The offers for the case's loan (``position``), marked affordable against the case's
    latest structured assessment: its "can pay a month" when recorded, else the policy's share
    of its monthly income. ``active_plan`` and ``plans_last_year`` as for ``offers_for``. Two
    queries (the assessment, the policy)."""
    assessment = db.session.scalars(
        select(Assessment)
        .where(Assessment.case_id == case_id)
        .order_by(Assessment.created_at.desc(), Assessment.id.desc())
        .limit(1)
    ).first()
    capacity, basis = None, None
    if assessment is not None and assessment.can_pay_minor_per_month is not None:
        capacity, basis = assessment.can_pay_minor_per_month, "can_pay"
    elif assessment is not None and assessment.monthly_income_minor is not None:
        policy = current_plan_policy()
        capacity = monthly_capacity(assessment.monthly_income_minor, 0, policy)
        basis = "income"
    return CaseOffers(
        plans=offers_for(
            position,
            capacity_minor=capacity,
            start=start,
            active_plan=active_plan,
            plans_last_year=plans_last_year,
        ),
        assessment=assessment,
        basis=basis,
    )
