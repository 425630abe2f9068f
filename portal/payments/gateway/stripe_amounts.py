"""Our minor units (ISO 4217 exponents, from Babel) to Stripe's amounts, and back.

Stripe's amounts are "the smallest unit" mostly as ISO defines it, with documented exceptions
(https://docs.stripe.com/currencies#special-cases): ISK, HUF and UGX are sent as two-decimal
amounts although their ISO minor unit is the whole unit (our ``1000`` ISK is Stripe's ``100000``),
and the three-decimal currencies (BHD, JOD, KWD, OMR, TND) must end in 0. Everything else maps
one to one (CNY fen = fen; JPY yen = yen).
"""

from __future__ import annotations

from portal.money import minor_exponent

# Stripe's zero-decimal currencies.
ZERO_DECIMAL = frozenset("BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF VND VUV XAF XOF XPF".split())
THREE_DECIMAL = frozenset("BHD JOD KWD OMR TND".split())


class AmountNotRepresentable(ValueError):
    """An amount Stripe cannot take or one of ours cannot hold (e.g. 1.005 BHD, 0.5 ISK)."""


def stripe_exponent(currency: str) -> int:
    """Decimals in Stripe's amount for ``currency`` (upper-case ISO code)."""
    if currency in ZERO_DECIMAL:
        return 0
    if currency in THREE_DECIMAL:
        return 3
    return 2


def to_stripe(amount_minor: int, currency: str) -> tuple[int, str]:
    """Our minor units and ISO code -> Stripe's amount and lower-case currency."""
    shift = stripe_exponent(currency) - minor_exponent(currency)
    if shift >= 0:
        amount = amount_minor * 10**shift
    else:
        amount, rest = divmod(amount_minor, 10**-shift)
        if rest:
            raise AmountNotRepresentable(f"{amount_minor} {currency} has too many decimals")
    if currency in THREE_DECIMAL and amount % 10:
        raise AmountNotRepresentable(f"Stripe takes {currency} amounts ending in 0")
    return amount, currency.lower()


def from_stripe(amount: int, currency: str) -> tuple[int, str]:
    """Stripe's amount and lower-case currency -> our minor units and upper-case ISO code."""
    code = currency.upper()
    shift = stripe_exponent(code) - minor_exponent(code)
    if shift <= 0:
        return amount * 10**-shift, code
    value, rest = divmod(amount, 10**shift)
    if rest:
        raise AmountNotRepresentable(f"Stripe's {amount} {currency} is a fraction of a {code}")
    return value, code
