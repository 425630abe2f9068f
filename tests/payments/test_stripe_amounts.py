"""Our minor units and Stripe's amounts: exact both ways, for every currency Stripe takes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.money import MAX_AMOUNT_MINOR
from portal.payments.gateway.stripe_amounts import (
    AmountNotRepresentable,
    from_stripe,
    to_stripe,
)

CURRENCIES = ["CNY", "USD", "HKD", "JPY", "KRW", "VND", "ISK", "HUF", "UGX", "TWD", "KWD"]


@given(
    amount=st.integers(min_value=1, max_value=MAX_AMOUNT_MINOR),
    currency=st.sampled_from(CURRENCIES),
)
def test_round_trip_is_exact(amount, currency):
    try:
        sent, code = to_stripe(amount, currency)
    except AmountNotRepresentable:
        assert currency == "KWD"  # three decimals: Stripe needs the last digit to be 0
        assert amount % 10
        return
    assert code == currency.lower()
    assert from_stripe(sent, code) == (amount, currency)


@pytest.mark.parametrize(
    ("currency", "ours", "stripes"),
    [
        ("CNY", 1_234_550, 1_234_550),  # fen are fen
        ("JPY", 500, 500),  # yen are whole
        ("KRW", 10_000, 10_000),
        ("ISK", 1_500, 150_000),  # ISO whole krónur; Stripe two-decimal
        ("HUF", 2_000, 200_000),
        ("KWD", 1_230, 1_230),
    ],
)
def test_known_amounts(currency, ours, stripes):
    assert to_stripe(ours, currency) == (stripes, currency.lower())


def test_a_fraction_of_a_whole_unit_from_stripe_is_refused():
    with pytest.raises(AmountNotRepresentable):
        from_stripe(150_050, "isk")
