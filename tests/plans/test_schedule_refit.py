"""A plan's consented schedule made to fit the balance at activation (``refit``) and the
components poured into its installments (``fill_components``), as properties."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.loans.models import Component
from portal.plans.schedule import fill_components, refit

WATERFALL = [Component.LATE_CHARGE, Component.FEE, Component.INTEREST, Component.PRINCIPAL]


@st.composite
def schedules(draw):
    start = draw(st.dates(min_value=date(2020, 1, 1), max_value=date(2080, 1, 1)))
    amounts = draw(st.lists(st.integers(1, 10**9), min_size=1, max_size=60))
    return [(start + timedelta(days=14 * n), a) for n, a in enumerate(amounts, start=1)]


@given(schedule=schedules(), total=st.integers(0, 6 * 10**10))
def test_refit_sums_exactly_and_keeps_dates_and_leading_amounts(schedule, total):
    """The sum is exact, no installment is zero, dates stay; only trailing amounts change."""
    fitted = refit(schedule, total)
    assert sum(amount for _, amount in fitted) == total
    assert all(amount > 0 for _, amount in fitted)
    assert [due for due, _ in fitted] == [due for due, _ in schedule][: len(fitted)]
    changed = [n for n, (old, new) in enumerate(zip(schedule, fitted, strict=False)) if old != new]
    if total >= sum(a for _, a in schedule):
        assert len(fitted) == len(schedule)
        assert changed in ([], [len(schedule) - 1])  # only the last takes the rest
    else:
        # Taken from the end backwards: at most one kept installment changes, the last kept.
        assert changed in ([], [len(fitted) - 1])
        assert all(new <= old for (_, old), (_, new) in zip(schedule, fitted, strict=False))


def test_refit_without_change_is_the_schedule():
    schedule = [(date(2027, 1, 1), 100), (date(2027, 2, 1), 105)]
    assert refit(schedule, 205) == schedule


def test_refit_drops_installments_left_at_nothing():
    schedule = [(date(2027, 1, 1), 100), (date(2027, 2, 1), 100), (date(2027, 3, 1), 100)]
    assert refit(schedule, 150) == [(date(2027, 1, 1), 100), (date(2027, 2, 1), 50)]
    assert refit(schedule, 0) == []


def test_refit_refuses_a_negative_total():
    with pytest.raises(ValueError, match="not below zero"):
        refit([(date(2027, 1, 1), 100)], -1)


@st.composite
def components_and_amounts(draw):
    parts = {c: draw(st.integers(0, 10**8)) for c in Component}
    total = sum(parts.values())
    count = draw(st.integers(1, 24))
    cuts = sorted(draw(st.lists(st.integers(0, total), min_size=count - 1, max_size=count - 1)))
    amounts = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
    return parts, amounts


@given(data=components_and_amounts(), order=st.permutations(WATERFALL))
def test_fill_components_sums_per_installment_and_per_component_in_waterfall_order(data, order):
    """Each installment carries its amount; each component its total; earlier components in
    the waterfall are used up before a later one appears."""
    by_component, amounts = data
    parts = fill_components(amounts, by_component, order)
    assert [sum(p.values()) for p in parts] == amounts
    for component in Component:
        assert sum(p.get(component, 0) for p in parts) == by_component[component]
    assert all(amount > 0 for p in parts for amount in p.values())
    flat = [c for p in parts for c in order if c in p]  # components in the order paid
    positions = [order.index(c) for c in flat]
    assert positions == sorted(positions)


def test_fill_components_refuses_amounts_that_do_not_carry_the_total():
    with pytest.raises(ValueError, match="exactly"):
        fill_components([100], {Component.PRINCIPAL: 99}, WATERFALL)
