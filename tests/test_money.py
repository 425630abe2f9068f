from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.money import InvalidAmount, Money, format_money, parse_amount


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("12.34", "CNY", 1234),
        ("1,234.5", "CNY", 123450),
        (" 7 ", "USD", 700),
        ("1500", "JPY", 1500),
        ("0.01", "CNY", 1),
    ],
)
def test_parse_amount_gives_minor_units(text, currency, minor):
    """User input becomes integer minor units of the currency."""
    assert parse_amount(text, currency) == minor


@pytest.mark.parametrize("text", ["12.345", "abc", "", "NaN", "Infinity", "1.5e-3"])
def test_parse_amount_refuses_what_it_cannot_represent(text):
    """Too many decimals or no number at all is an error, never a silent rounding."""
    with pytest.raises(InvalidAmount):
        parse_amount(text, "CNY")


def test_unknown_currency_is_refused():
    with pytest.raises(InvalidAmount):
        parse_amount("1", "XYZ")


def test_format_money_per_locale():
    """The same amount reads as each locale expects."""
    assert format_money(1_234_550, "CNY", "zh_CN") == "¥12,345.50"
    assert format_money(1_234_550, "CNY", "en") == "CN¥12,345.50"
    assert format_money(1500, "JPY", "en") == "¥1,500"


def test_money_refuses_floats_and_mixed_currencies():
    """Money holds ints only and never adds yuan to dollars."""
    with pytest.raises(TypeError):
        Money(12.5, "CNY")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cannot combine"):
        Money(1, "CNY") + Money(1, "USD")
    assert (Money(150, "CNY") - Money(50, "CNY")).decimal == Decimal("1.00")


@given(st.integers(min_value=0, max_value=10**12))
def test_parse_reads_back_what_format_writes(minor):
    """Formatting then parsing an amount (English, no symbol) gives the same minor units."""
    text = format_money(minor, "CNY", "en").replace("CN¥", "")
    assert parse_amount(text, "CNY") == minor


@pytest.mark.parametrize(
    "text",
    ["1e999999", "1E5", "NaN", "Infinity", "-Infinity", "²", "１２", "-0", "-5", "1" * 30, "0x10"],
)
def test_parse_amount_refuses_exponents_specials_non_ascii_negatives_and_huge(text):
    """Only plain ASCII decimals within the bound are amounts; the rest raise InvalidAmount."""
    with pytest.raises(InvalidAmount):
        parse_amount(text, "CNY")
