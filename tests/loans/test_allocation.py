"""The waterfall as a pure function: exact to the cent whatever the amounts and the order."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.loans.allocation import DEFAULT_WATERFALL, allocate
from portal.loans.models import Component, Installment

amounts = st.integers(min_value=0, max_value=10**9)


@st.composite
def schedules(draw):
    """1-12 installments with random dues and partial payments (paid never above due)."""
    rows = []
    for sequence in range(1, draw(st.integers(1, 12)) + 1):
        values = {}
        for component in Component:
            due = draw(amounts)
            values[f"{component.value}_due"] = due
            values[f"{component.value}_paid"] = draw(st.integers(0, due))
        rows.append(
            Installment(
                sequence=sequence,
                due_date=date(2026, 1, 1).replace(month=1 + sequence % 12),
                **values,
            )
        )
    return rows


waterfalls = st.permutations(list(Component))


@given(schedules(), st.integers(0, 10**10), waterfalls)
def test_parts_and_what_is_left_always_add_up_to_the_payment(installments, amount, waterfall):
    allocation = allocate(installments, amount, waterfall)
    assert sum(p.amount_minor for p in allocation.parts) + allocation.unallocated_minor == amount


@given(schedules(), st.integers(0, 10**10), waterfalls)
def test_no_part_is_negative_or_more_than_its_component_owes(installments, amount, waterfall):
    allocation = allocate(installments, amount, waterfall)
    taken: dict[tuple[int, Component], int] = {}
    for part in allocation.parts:
        assert part.amount_minor > 0
        key = (part.installment.sequence, part.component)
        taken[key] = taken.get(key, 0) + part.amount_minor
    for installment in installments:
        for component in Component:
            assert taken.get((installment.sequence, component), 0) <= installment.outstanding_of(
                component
            )


@given(schedules(), st.integers(0, 10**10), waterfalls)
def test_money_is_left_over_only_when_everything_is_paid(installments, amount, waterfall):
    allocation = allocate(installments, amount, waterfall)
    owed = sum(i.outstanding for i in installments)
    assert allocation.unallocated_minor == max(0, amount - owed)


@given(schedules(), st.integers(0, 10**10))
def test_an_older_installment_is_settled_before_a_newer_one_gets_anything(installments, amount):
    allocation = allocate(installments, amount, DEFAULT_WATERFALL)
    paid_into = {part.installment.sequence for part in allocation.parts}
    for installment in sorted(installments, key=lambda i: (i.due_date, i.sequence)):
        if installment.sequence in paid_into:
            continue
        # nothing newer than an untouched installment with something owed got money
        if installment.outstanding:
            assert all(
                (i.due_date, i.sequence) < (installment.due_date, installment.sequence)
                for i in installments
                if i.sequence in paid_into
            )


def test_the_default_waterfall_pays_late_charges_and_fees_before_interest_and_principal():
    installment = Installment(
        sequence=1,
        due_date=date(2026, 1, 31),
        principal_due=1_000,
        interest_due=100,
        fee_due=50,
        late_charge_due=20,
        principal_paid=0,
        interest_paid=0,
        fee_paid=0,
        late_charge_paid=0,
    )
    parts = allocate([installment], 100).parts
    assert [(p.component, p.amount_minor) for p in parts] == [
        (Component.LATE_CHARGE, 20),
        (Component.FEE, 50),
        (Component.INTEREST, 30),
    ]


def test_a_waterfall_must_name_every_component_once():
    with pytest.raises(ValueError, match="every component exactly once"):
        allocate([], 10, (Component.FEE, Component.FEE, Component.INTEREST, Component.PRINCIPAL))
    with pytest.raises(ValueError, match="cannot be negative"):
        allocate([], -1)
