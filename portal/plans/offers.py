"""Plan offers, pure: from a loan's balance and the plan policy, each term's waiver in money,
down payment and full schedule, whether the loan may enroll at all, and what the borrower can
afford.

The restructured balance is the loan's whole outstanding balance (overdue and not yet due, every
component incl. late charges): a plan replaces the loan's remaining schedule, so nothing is left
owing beside it. Of it, each term waives a share of the late charges and of the interest
(rounded down, to the minor unit), the down payment is paid first, and the rest is split into
the installments. For every offer:
``down_payment + sum(installments) + waiver == restructured balance``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date

from portal.loans.models import Component
from portal.loans.services import LoanPosition
from portal.plans.policy import DownPaymentKind, PlanPolicy, Term
from portal.plans.schedule import PlanInstallment, build_plan_schedule, monthly_equivalent

BPS = 10_000


@dataclass(frozen=True)
class Balance:
    """What a loan owes today, by component, and how late it is."""

    by_component: Mapping[Component, int]
    days_past_due: int

    @property
    def total(self) -> int:
        return sum(self.by_component.values())


def balance_of(position: LoanPosition) -> Balance:
    """The loan's outstanding balance by component (its installments, already loaded)."""
    installments = position.loan.installments
    return Balance(
        by_component={c: sum(i.outstanding_of(c) for i in installments) for c in Component},
        days_past_due=position.days_past_due,
    )


class Ineligible(enum.StrEnum):
    NOTHING_OWED = "nothing_owed"
    TOO_EARLY = "too_early"  # fewer days past due than the policy's minimum
    TOO_LATE = "too_late"  # more days past due than the maximum
    BALANCE_TOO_SMALL = "balance_too_small"
    BALANCE_TOO_LARGE = "balance_too_large"
    ACTIVE_PLAN = "active_plan"
    TOO_MANY_PLANS = "too_many_plans"  # the policy's plans per loan in the last 365 days


def ineligibility(
    balance: Balance, policy: PlanPolicy, *, active_plan: bool, plans_last_year: int
) -> Ineligible | None:
    """Why the loan may not enroll in a plan under ``policy``, or None when it may.
    ``active_plan`` and ``plans_last_year`` come from the loan's plans (enrollment)."""
    if balance.total <= 0:
        return Ineligible.NOTHING_OWED
    if active_plan:
        return Ineligible.ACTIVE_PLAN
    if plans_last_year >= policy.max_plans_per_year:
        return Ineligible.TOO_MANY_PLANS
    if balance.days_past_due < policy.min_days_past_due:
        return Ineligible.TOO_EARLY
    if balance.days_past_due > policy.max_days_past_due:
        return Ineligible.TOO_LATE
    if balance.total < policy.min_balance_minor:
        return Ineligible.BALANCE_TOO_SMALL
    if policy.max_balance_minor and balance.total > policy.max_balance_minor:
        return Ineligible.BALANCE_TOO_LARGE
    return None


@dataclass(frozen=True)
class Offer:
    term: Term
    balance_minor: int  # the restructured balance
    waiver_by_component: Mapping[Component, int]
    down_payment_minor: int
    installments: tuple[PlanInstallment, ...]
    needs_approval: bool
    affordable: bool | None = field(default=None)  # None: the borrower stated no income

    @property
    def waiver_minor(self) -> int:
        return sum(self.waiver_by_component.values())

    @property
    def financed_minor(self) -> int:
        return sum(i.amount_minor for i in self.installments)

    @property
    def installment_minor(self) -> int:
        """The largest installment (the last, which carries the remainder)."""
        return max(i.amount_minor for i in self.installments)

    @property
    def monthly_minor(self) -> int:
        """The largest installment as a monthly cost (bi-weekly: x 26/12, rounded up)."""
        return monthly_equivalent(self.installment_minor, self.term.frequency)


def waiver_of(balance: Balance, term: Term) -> dict[Component, int]:
    """The term's waiver in money: its shares of the late charges and the interest, rounded
    down. Only components with something waived appear."""
    shares = {
        Component.LATE_CHARGE: term.late_charge_waiver_bps,
        Component.INTEREST: term.interest_waiver_bps,
    }
    waived = {c: balance.by_component.get(c, 0) * bps // BPS for c, bps in shares.items()}
    return {c: amount for c, amount in waived.items() if amount > 0}


def down_payment_of(policy: PlanPolicy, balance_minor: int, payable_minor: int) -> int:
    """The down payment: a share of the restructured balance or a fixed amount, at least the
    policy's minimum, never more than what is payable after the waiver."""
    if policy.down_payment_kind is DownPaymentKind.NONE:
        return 0
    if policy.down_payment_kind is DownPaymentKind.PERCENT:
        asked = -(-balance_minor * policy.down_payment_bps // BPS)  # rounded up
    else:
        asked = policy.down_payment_fixed_minor
    return min(max(asked, policy.down_payment_min_minor), payable_minor)


def price_offer(balance: Balance, policy: PlanPolicy, term: Term, *, start: date) -> Offer | None:
    """``term``'s offer for ``balance`` from ``start``, or None when its installments would be
    below the policy's smallest installment (the balance is too small for that many)."""
    waiver = waiver_of(balance, term)
    payable = balance.total - sum(waiver.values())
    down = down_payment_of(policy, balance.total, payable)
    financed = payable - down
    if financed // term.installments < max(policy.min_installment_minor, 1):
        return None
    waived = sum(waiver.values())
    return Offer(
        term=term,
        balance_minor=balance.total,
        waiver_by_component=waiver,
        down_payment_minor=down,
        installments=tuple(
            build_plan_schedule(
                amount_minor=financed,
                count=term.installments,
                frequency=term.frequency,
                start=start,
            )
        ),
        needs_approval=bool(
            (policy.approval_balance_minor and balance.total > policy.approval_balance_minor)
            or (policy.approval_waiver_minor and waived > policy.approval_waiver_minor)
        ),
    )


def monthly_capacity(income_minor: int, expenses_minor: int, policy: PlanPolicy) -> int:
    """The largest monthly installment the borrower can afford: the policy's share of
    disposable income (income less essential expenses; nothing when that is not positive)."""
    disposable = max(income_minor - expenses_minor, 0)
    return disposable * policy.affordability_bps // BPS


def make_offers(
    balance: Balance, policy: PlanPolicy, *, start: date, capacity_minor: int | None = None
) -> list[Offer]:
    """Every term's offer the balance allows. Without a capacity, in the policy's menu order.
    With one (``monthly_capacity``, or what a collector assessed), each is marked affordable
    when its monthly cost is within it; the affordable ones come first, the dearest first (the
    shortest plan the borrower can carry), then those out of reach, the nearest first."""
    offers = [
        offer
        for term in policy.terms
        if (offer := price_offer(balance, policy, term, start=start)) is not None
    ]
    if capacity_minor is None:
        return offers
    marked = [replace(offer, affordable=offer.monthly_minor <= capacity_minor) for offer in offers]
    within = sorted((o for o in marked if o.affordable), key=lambda o: -o.monthly_minor)
    beyond = sorted((o for o in marked if not o.affordable), key=lambda o: o.monthly_minor)
    return within + beyond
