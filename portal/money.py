"""Amounts of money: integer minor units plus an ISO 4217 currency code, never floats.

Parsing and formatting happen only at the edges (forms, templates); everything in between
works on ``int`` minor units.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel import Locale
from babel.numbers import format_currency, get_currency_precision, list_currencies


class InvalidAmount(ValueError):
    """Text that is not an amount of the given currency (too many decimals, not a number...)."""


@lru_cache(maxsize=64)  # pages format dozens of amounts; Babel rebuilds its currency set each call
def minor_exponent(currency: str) -> int:
    """Digits after the decimal point for a currency: 2 for CNY and USD, 0 for JPY."""
    if currency not in list_currencies():
        raise InvalidAmount(f"unknown currency {currency!r}")
    return get_currency_precision(currency)


@dataclass(frozen=True, slots=True)
class Money:
    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount_minor, int) or isinstance(self.amount_minor, bool):
            raise TypeError("Money holds integer minor units")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount_minor - other.amount_minor, self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} with {other.currency}")

    @property
    def decimal(self) -> Decimal:
        return Decimal(self.amount_minor).scaleb(-minor_exponent(self.currency))

    def format(self, locale: str) -> str:
        return format_money(self.amount_minor, self.currency, locale)


MAX_AMOUNT_MINOR = 10**15  # far beyond any loan; keeps BIGINT columns and arithmetic safe
_AMOUNT = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")


def parse_amount(text: str, currency: str) -> int:
    """Turn user input such as ``"1,234.50"`` into minor units; raise InvalidAmount if unsure.

    Only ASCII digits and one decimal point (``Decimal`` would also take ``1e999999``, ``NaN``,
    ``Infinity`` or full-width digits), at most the currency's decimals, at most
    ``MAX_AMOUNT_MINOR``; never negative."""
    cleaned = text.strip().replace(",", "").replace("_", "") if isinstance(text, str) else ""
    if not cleaned.isascii() or len(cleaned) > 40 or not _AMOUNT.fullmatch(cleaned):
        raise InvalidAmount(f"{text!r} is not a number")
    try:
        value = Decimal(cleaned)
    except InvalidOperation as error:  # pragma: no cover - the pattern admits only decimals
        raise InvalidAmount(f"{text!r} is not a number") from error
    scaled = value.scaleb(minor_exponent(currency))
    if scaled != scaled.to_integral_value():
        raise InvalidAmount(f"{text!r} has more decimals than {currency} allows")
    if scaled > MAX_AMOUNT_MINOR:
        raise InvalidAmount(f"{text!r} is too large")
    return int(scaled)


def format_money(amount_minor: int, currency: str, locale: str | Locale) -> str:
    """Format minor units for a locale, e.g. 1234550 CNY in zh_CN -> '¥12,345.50'."""
    value = Decimal(amount_minor).scaleb(-minor_exponent(currency))
    if isinstance(locale, str):
        locale = parsed_locale(locale)
    return format_currency(value, currency, locale=locale)


@lru_cache(maxsize=32)
def parsed_locale(identifier: str) -> Locale:
    """Babel's Locale for an identifier, parsed once (Babel parses a string on every call)."""
    return Locale.parse(identifier)
