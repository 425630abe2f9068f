"""A plan's schedule, pure: due dates and amounts in minor units that sum exactly to the amount
financed, the remainder on the last installment."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from portal.loans.models import Component
from portal.loans.schedule import add_months

BIWEEKLY_DAYS = 14
# A bi-weekly installment falls 26 times a year: 26/12 of it a month.
PAYMENTS_A_YEAR = {"monthly": 12, "biweekly": 26}


class Frequency(enum.StrEnum):
    MONTHLY = "monthly"
    BIWEEKLY = "biweekly"


@dataclass(frozen=True)
class PlanInstallment:
    number: int  # 1-based
    due_date: date
    amount_minor: int


def due_dates(start: date, count: int, frequency: Frequency) -> list[date]:
    """The ``count`` due dates after ``start``: monthly on ``start``'s day (clamped to the
    month's end, each counted from ``start`` so Jan 31 gives Feb 28, Mar 31...), or every 14
    days."""
    if frequency is Frequency.MONTHLY:
        return [add_months(start, k) for k in range(1, count + 1)]
    return [start + timedelta(days=BIWEEKLY_DAYS * k) for k in range(1, count + 1)]


def split(total_minor: int, count: int) -> list[int]:
    """``total_minor`` in ``count`` equal whole parts, the remainder on the last one."""
    if count < 1 or total_minor < 0:
        raise ValueError("split needs at least one part and an amount not below zero")
    base = total_minor // count
    return [base] * (count - 1) + [total_minor - base * (count - 1)]


def build_plan_schedule(
    *, amount_minor: int, count: int, frequency: Frequency, start: date
) -> list[PlanInstallment]:
    """The installments of a plan financing ``amount_minor`` from ``start`` (the day the plan
    is priced or enrolled; the first installment is one period later)."""
    return [
        PlanInstallment(number=n, due_date=due, amount_minor=amount)
        for n, (due, amount) in enumerate(
            zip(due_dates(start, count, frequency), split(amount_minor, count), strict=True),
            start=1,
        )
    ]


def monthly_equivalent(amount_minor: int, frequency: Frequency) -> int:
    """What an installment paid at ``frequency`` costs a month, rounded up (bi-weekly: x 26/12)."""
    per_year = PAYMENTS_A_YEAR[frequency.value]
    return -(-amount_minor * per_year // 12)


def refit(schedule: list[tuple[date, int]], total_minor: int) -> list[tuple[date, int]]:
    """The consented ``schedule`` (due date, amount) made to sum to ``total_minor``: the
    balance moved between consent and the plan's start. More is added to the last installment;
    less is taken from the last ones backwards, dropping those left at nothing. The dates and
    the other amounts stay as the borrower agreed them."""
    if total_minor < 0:
        raise ValueError("a plan finances an amount not below zero")
    amounts = [amount for _, amount in schedule]
    difference = total_minor - sum(amounts)
    if difference >= 0:
        amounts[-1] += difference
    else:
        for n in range(len(amounts) - 1, -1, -1):
            take = min(amounts[n], -difference)
            amounts[n] -= take
            difference += take
    return [(due, amount) for (due, _), amount in zip(schedule, amounts, strict=True) if amount]


def fill_components(
    amounts: list[int], by_component: Mapping[Component, int], order: Sequence[Component]
) -> list[dict[Component, int]]:
    """What each installment of ``amounts`` carries of each component: the components poured
    in ``order`` (the waterfall's), installment by installment, so the plan is paid off in the
    order any payment would be allocated. ``amounts`` must sum to the components' total."""
    if sum(amounts) != sum(by_component.values()):
        raise ValueError("the installments must carry exactly the components' total")
    left = {component: by_component.get(component, 0) for component in order}
    parts = []
    for amount in amounts:
        part: dict[Component, int] = {}
        for component in order:
            take = min(amount, left[component])
            if take:
                part[component] = take
                left[component] -= take
                amount -= take
        parts.append(part)
    return parts
