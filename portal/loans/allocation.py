"""How a payment is split over a loan's installments: the waterfall, as a pure function.

The same function previews the split on the pay page and books it in ``record_payment``, so
what the borrower is shown before confirming is exactly what the ledger records.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from portal.loans.models import Component, Installment

# Late charges and fees, then interest, then principal; oldest installment first.
DEFAULT_WATERFALL: tuple[Component, ...] = (
    Component.LATE_CHARGE,
    Component.FEE,
    Component.INTEREST,
    Component.PRINCIPAL,
)


@dataclass(frozen=True)
class Part:
    installment: Installment
    component: Component
    amount_minor: int


@dataclass(frozen=True)
class Allocation:
    parts: tuple[Part, ...]
    # What no installment could take: the loan's balance was smaller than the payment.
    unallocated_minor: int

    def by_component(self) -> dict[Component, int]:
        totals = {component: 0 for component in Component}
        for part in self.parts:
            totals[part.component] += part.amount_minor
        return totals


def allocate(
    installments: Iterable[Installment],
    amount_minor: int,
    waterfall: Sequence[Component] = DEFAULT_WATERFALL,
) -> Allocation:
    """Split ``amount_minor`` over ``installments`` (oldest first), component by ``waterfall``.

    Reads the installments' outstanding amounts and changes nothing. The parts always add up to
    the amount less ``unallocated_minor``, and no part exceeds what its component owes.
    """
    if amount_minor < 0:
        raise ValueError("a payment cannot be negative")
    if sorted(waterfall) != sorted(Component):
        raise ValueError("a waterfall names every component exactly once")
    parts: list[Part] = []
    remaining = amount_minor
    for installment in sorted(installments, key=lambda i: (i.due_date, i.sequence)):
        for component in waterfall:
            portion = min(remaining, installment.outstanding_of(component))
            if portion > 0:
                parts.append(Part(installment, component, portion))
                remaining -= portion
        if remaining == 0:
            break
    return Allocation(tuple(parts), remaining)
