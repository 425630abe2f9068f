"""Building an installment schedule for a new loan, in integer minor units."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class ScheduledInstallment:
    sequence: int
    due_date: date
    principal_due: int
    interest_due: int
    fee_due: int


def add_months(start: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's end (Jan 31 + 1 -> Feb 28/29)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


def _round_half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def build_schedule(
    *, principal_minor: int, annual_rate_bps: int, fee_minor: int, disbursed_on: date, terms: int
) -> list[ScheduledInstallment]:
    """Monthly equal-principal schedule with interest on the declining balance.

    Principal is split evenly, the remainder going to the last installment so the parts add
    up exactly; the upfront fee is due with the first installment.
    """
    if principal_minor <= 0 or terms <= 0:
        raise ValueError("principal and terms must be positive")
    base, remainder = divmod(principal_minor, terms)
    balance = principal_minor
    rows = []
    for sequence in range(1, terms + 1):
        principal = base + (remainder if sequence == terms else 0)
        # monthly interest = balance * rate / 12, rate in basis points
        interest = _round_half_up(balance * annual_rate_bps, 10_000 * 12)
        rows.append(
            ScheduledInstallment(
                sequence=sequence,
                due_date=add_months(disbursed_on, sequence),
                principal_due=principal,
                interest_due=interest,
                fee_due=fee_minor if sequence == 1 else 0,
            )
        )
        balance -= principal
    return rows
