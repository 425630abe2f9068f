"""Plan offers and schedules, as properties: sums exact, dates valid across month ends and leap
years, waivers exact, nothing lost between down payment, installments and waiver, ordering."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import pytest
from flask_babel import force_locale
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.loans.models import Component
from portal.plans.offers import (
    Balance,
    Ineligible,
    down_payment_of,
    ineligibility,
    make_offers,
    monthly_capacity,
    price_offer,
    waiver_of,
)
from portal.plans.policy import DEFAULT_SETTINGS, policy_of, validate_settings
from portal.plans.schedule import (
    Frequency,
    due_dates,
    monthly_equivalent,
    split,
)

POLICY = policy_of(0, DEFAULT_SETTINGS)
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))
frequencies = st.sampled_from(list(Frequency))
amounts = st.integers(min_value=0, max_value=10**10)


def _policy(**changes):
    return policy_of(0, {**DEFAULT_SETTINGS, **changes})


@st.composite
def balances(draw):
    parts = {c: draw(st.integers(min_value=0, max_value=10**9)) for c in Component}
    return Balance(by_component=parts, days_past_due=draw(st.integers(0, 400)))


@st.composite
def policies(draw):
    terms = [
        {
            "installments": draw(st.integers(2, 60)),
            "frequency": draw(st.sampled_from(["monthly", "biweekly"])),
            "late_charge_waiver_bps": draw(st.integers(0, 10_000)),
            "interest_waiver_bps": draw(st.integers(0, 10_000)),
        }
        for _ in range(draw(st.integers(1, 5)))
    ]
    return _policy(
        terms=terms,
        down_payment_kind=draw(st.sampled_from(["none", "percent", "fixed"])),
        down_payment_bps=draw(st.integers(0, 10_000)),
        down_payment_fixed_minor=draw(st.integers(0, 10**8)),
        down_payment_min_minor=draw(st.integers(0, 10**6)),
        min_installment_minor=draw(st.integers(1, 10**5)),
    )


@given(total=amounts, count=st.integers(1, 60))
def test_split_sums_exactly_with_the_remainder_last(total, count):
    parts = split(total, count)
    assert sum(parts) == total
    assert len(parts) == count
    assert len(set(parts[:-1])) <= 1
    assert 0 <= parts[-1] - parts[0] < count


@given(start=days, count=st.integers(1, 60), frequency=frequencies)
def test_due_dates_step_one_period_and_clamp_to_month_end(start, count, frequency):
    dates = due_dates(start, count, frequency)
    assert len(dates) == count
    assert dates == sorted(set(dates))
    assert dates[0] > start
    for k, due in enumerate(dates, start=1):
        if frequency is Frequency.BIWEEKLY:
            assert due == start + timedelta(days=14 * k)
        else:
            months = (due.year - start.year) * 12 + due.month - start.month
            assert months == k
            last = calendar.monthrange(due.year, due.month)[1]
            assert due.day == min(start.day, last)


def test_month_ends_and_leap_years():
    assert due_dates(date(2024, 1, 31), 3, Frequency.MONTHLY) == [
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
    ]
    assert due_dates(date(2023, 1, 31), 1, Frequency.MONTHLY) == [date(2023, 2, 28)]
    assert due_dates(date(2024, 2, 29), 12, Frequency.MONTHLY)[-1] == date(2025, 2, 28)
    assert due_dates(date(2024, 12, 25), 1, Frequency.BIWEEKLY) == [date(2025, 1, 8)]


@given(amount=st.integers(0, 10**9))
def test_monthly_equivalent(amount):
    assert monthly_equivalent(amount, Frequency.MONTHLY) == amount
    biweekly = monthly_equivalent(amount, Frequency.BIWEEKLY)
    assert biweekly * 12 >= amount * 26 > (biweekly - 1) * 12


@given(balance=balances(), policy=policies(), start=days)
@settings(max_examples=300)
def test_every_offer_accounts_for_the_whole_balance(balance, policy, start):
    for term in policy.terms:
        offer = price_offer(balance, policy, term, start=start)
        waiver = waiver_of(balance, term)
        assert waiver.get(Component.LATE_CHARGE, 0) == (
            balance.by_component[Component.LATE_CHARGE] * term.late_charge_waiver_bps // 10_000
        )
        assert waiver.get(Component.INTEREST, 0) == (
            balance.by_component[Component.INTEREST] * term.interest_waiver_bps // 10_000
        )
        if offer is None:
            payable = balance.total - sum(waiver.values())
            financed = payable - down_payment_of(policy, balance.total, payable)
            assert financed // term.installments < policy.min_installment_minor
            continue
        assert offer.down_payment_minor + offer.financed_minor + offer.waiver_minor == (
            balance.total
        )
        assert offer.waiver_by_component == waiver
        assert offer.down_payment_minor >= 0
        assert len(offer.installments) == term.installments
        assert all(i.amount_minor >= policy.min_installment_minor for i in offer.installments)
        assert [i.number for i in offer.installments] == list(range(1, term.installments + 1))
        assert offer.installments[-1].amount_minor == offer.installment_minor


@given(
    balance=balances(),
    policy=policies(),
    start=days,
    capacity=st.one_of(st.none(), st.integers(0, 10**9)),
)
@settings(max_examples=200)
def test_offers_are_ordered_by_what_the_borrower_can_afford(balance, policy, start, capacity):
    offers = make_offers(balance, policy, start=start, capacity_minor=capacity)
    if capacity is None:
        assert all(o.affordable is None for o in offers)
        return
    flags = [o.affordable for o in offers]
    assert flags == sorted(flags, reverse=True)  # affordable first
    for offer in offers:
        assert offer.affordable == (offer.monthly_minor <= capacity)
    within = [o.monthly_minor for o in offers if o.affordable]
    beyond = [o.monthly_minor for o in offers if not o.affordable]
    assert within == sorted(within, reverse=True)
    assert beyond == sorted(beyond)


def _balance(principal=100_000, interest=6_000, late=4_001, days_past_due=30):
    return Balance(
        by_component={
            Component.PRINCIPAL: principal,
            Component.INTEREST: interest,
            Component.FEE: 0,
            Component.LATE_CHARGE: late,
        },
        days_past_due=days_past_due,
    )


def test_an_example_offer_in_full():
    """3 monthly installments, half the late charges waived, 10 % down, from Jan 31 2024."""
    offer = make_offers(_balance(), POLICY, start=date(2024, 1, 31))[0]
    assert offer.balance_minor == 110_001
    assert offer.waiver_by_component == {Component.LATE_CHARGE: 2_000}
    assert offer.down_payment_minor == 11_001  # 10 % of 110,001, rounded up
    assert [(i.due_date, i.amount_minor) for i in offer.installments] == [
        (date(2024, 2, 29), 32_333),
        (date(2024, 3, 31), 32_333),
        (date(2024, 4, 30), 32_334),
    ]


def test_small_balance_refuses_long_terms():
    """Terms whose installment would fall below the smallest allowed are not offered."""
    offers = make_offers(
        _balance(principal=10_000, interest=0, late=0), POLICY, start=date(2024, 5, 1)
    )
    assert {(o.term.installments, o.term.frequency) for o in offers} == {
        (3, Frequency.MONTHLY),
        (6, Frequency.MONTHLY),
        (6, Frequency.BIWEEKLY),
    }
    assert (
        make_offers(_balance(principal=1_000, interest=0, late=0), POLICY, start=date(2024, 5, 1))
        == []
    )


def test_down_payment_kinds_and_minimum():
    fixed = _policy(
        down_payment_kind="fixed", down_payment_fixed_minor=5_000, down_payment_min_minor=0
    )
    assert down_payment_of(fixed, 100_000, 90_000) == 5_000
    assert down_payment_of(fixed, 100_000, 3_000) == 3_000  # never more than payable
    floor = _policy(down_payment_bps=100, down_payment_min_minor=2_500)
    assert down_payment_of(floor, 100_000, 100_000) == 2_500
    assert down_payment_of(_policy(down_payment_kind="none", down_payment_min_minor=9), 10, 10) == 0


def test_approval_limits():
    policy = _policy(approval_balance_minor=100_000)
    assert all(o.needs_approval for o in make_offers(_balance(), policy, start=date(2024, 1, 1)))
    policy = _policy(approval_waiver_minor=1_500)
    flags = {
        o.term.installments: o.needs_approval
        for o in make_offers(_balance(), policy, start=date(2024, 1, 1))
        if o.term.frequency is Frequency.MONTHLY
    }
    assert flags == {3: True, 6: False, 12: False}  # waivers 2,000 / 1,000 / 0


@pytest.mark.parametrize(
    ("balance", "active", "recent", "expected"),
    [
        (_balance(), False, 0, None),
        (_balance(principal=0, interest=0, late=0), False, 0, Ineligible.NOTHING_OWED),
        (_balance(days_past_due=0), False, 0, Ineligible.TOO_EARLY),
        (_balance(days_past_due=181), False, 0, Ineligible.TOO_LATE),
        (_balance(principal=5_000, interest=0, late=0), False, 0, Ineligible.BALANCE_TOO_SMALL),
        (_balance(), True, 0, Ineligible.ACTIVE_PLAN),
        (_balance(), False, 2, Ineligible.TOO_MANY_PLANS),
    ],
)
def test_eligibility(balance, active, recent, expected):
    assert ineligibility(balance, POLICY, active_plan=active, plans_last_year=recent) == expected


def test_largest_balance():
    policy = _policy(max_balance_minor=100_000)
    assert ineligibility(_balance(), policy, active_plan=False, plans_last_year=0) == (
        Ineligible.BALANCE_TOO_LARGE
    )


def test_capacity_is_a_share_of_disposable_income():
    assert monthly_capacity(1_000_000, 600_000, POLICY) == 120_000
    assert monthly_capacity(500_000, 600_000, POLICY) == 0


def test_validation(app):
    with app.test_request_context(), force_locale("en"):
        assert validate_settings(DEFAULT_SETTINGS) == []
        bad = {**DEFAULT_SETTINGS, "min_days_past_due": 90, "max_days_past_due": 30}
        assert validate_settings(bad) == ["The most days past due cannot be below the fewest."]
        twice = {**DEFAULT_SETTINGS, "terms": [DEFAULT_SETTINGS["terms"][0]] * 2}
        assert validate_settings(twice) == ["Term 2 is on the menu twice."]
        assert validate_settings({**DEFAULT_SETTINGS, "terms": []}) == [
            "Offer between 1 and 6 terms."
        ]
        assert validate_settings({**DEFAULT_SETTINGS, "affordability_bps": -1}) == [
            "Every number must be a whole number from 0 up to its limit."
        ]
    with app.test_request_context(), force_locale("zh_CN"):
        assert validate_settings({**DEFAULT_SETTINGS, "terms": []}) == [
            "请提供 1 至 6 种期限方案。"
        ]
