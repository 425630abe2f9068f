"""What the borrower can pay on a loan today, and whether an amount they typed is one of them.

Four options (``PayOption``), each an amount in the loan's currency as of the borrower's local
today, from ``loan_position``:

- **overdue**: everything past due (late charges, fees, interest, principal);
- **next installment**: the next installment's outstanding amount *plus* anything overdue. The
  waterfall pays the oldest installment first, so paying only the next installment's amount
  while something is overdue would settle the overdue installments, not the next one; the
  option says what actually makes the next installment paid;
- **other**: any amount from a minimum (``PAYMENT_MINIMUM_UNITS`` whole units of the currency,
  1.00 by default, or the payoff if that is smaller) up to the payoff;
- **payoff**: what settles the loan today (``LoanPosition.payoff``).

An option whose amount is zero (nothing overdue, no next installment) is not offered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from babel.numbers import get_currency_symbol, list_currencies
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from portal.domain import DomainError
from portal.loans.allocation import Allocation, Part
from portal.loans.charges.services import waterfall_of
from portal.loans.models import Component, Installment, Loan
from portal.loans.services import LoanPosition, loan_position, preview_allocation
from portal.money import InvalidAmount, format_money, minor_exponent, parse_amount
from portal.payments.models import PayOption
from portal.payments.payoff import payoff_parts

DEFAULT_MINIMUM_UNITS = 1  # 1.00 CNY: smaller card payments cost more than they settle


class AmountRefused(DomainError):
    """The amount is not one the borrower can pay on this loan today."""

    status_code = 422
    message = _l("Please enter an amount to pay.")


class QuoteChanged(DomainError):
    """The page was out of date: the option's amount is not what it was when it was shown."""

    status_code = 409
    message = _l(
        "What you owe has changed since the page was opened. Please check the amounts again."
    )


class NothingToPay(DomainError):
    status_code = 422
    message = _l("This loan has nothing left to pay.")


@dataclass(frozen=True)
class PreviewLine:
    """What one installment receives, component by component in waterfall order."""

    installment: Installment
    parts: list[tuple[str, int]]  # (component code, minor units)

    @property
    def total(self) -> int:
        return sum(amount for _component, amount in self.parts)


@dataclass(frozen=True)
class AllocationPreview:
    amount_minor: int
    lines: list[PreviewLine]
    allocation: Allocation

    @property
    def credit(self) -> int:
        """What no installment takes (kept as the borrower's credit)."""
        return self.allocation.unallocated_minor


@dataclass(frozen=True)
class PayQuote:
    """The pay page's options for one loan on one local date."""

    position: LoanPosition
    overdue: int
    next_installment: int
    payoff: int
    minimum: int
    waterfall: tuple[Component, ...]  # the loan product's, read once for every preview

    @property
    def loan(self) -> Loan:
        return self.position.loan

    @property
    def currency(self) -> str:
        return self.position.loan.currency

    @property
    def maximum(self) -> int:
        return self.payoff

    def amount_of(self, option: PayOption) -> int:
        """The fixed amount of an option (0 when not offered); ``other`` has none."""
        return {
            PayOption.OVERDUE: self.overdue,
            PayOption.NEXT_INSTALLMENT: self.next_installment,
            PayOption.PAYOFF: self.payoff,
            PayOption.OTHER: 0,
        }[option]

    def options(self) -> list[PayOption]:
        """The options offered today, in the page's order."""
        if self.payoff <= 0:
            return []
        fixed = [PayOption.OVERDUE, PayOption.NEXT_INSTALLMENT, PayOption.PAYOFF]
        offered = [option for option in fixed if self.amount_of(option) > 0]
        # The next installment costs the payoff when it is the last one: offer it once.
        if self.next_installment == self.payoff and PayOption.PAYOFF in offered:
            offered.remove(PayOption.NEXT_INSTALLMENT)
        return [*offered[:-1], PayOption.OTHER, offered[-1]] if offered else [PayOption.OTHER]

    def default_option(self) -> PayOption:
        """The first fixed amount offered (what is overdue, if anything is)."""
        fixed = [option for option in self.options() if option is not PayOption.OTHER]
        return fixed[0] if fixed else PayOption.OTHER

    def check(self, option: PayOption, amount_minor: int) -> int:
        """The amount to charge for ``option``, refusing what the borrower cannot pay today.

        A fixed option's amount must be the one shown (QuoteChanged otherwise: a payment
        landed or a charge accrued since). ``other`` must lie between the minimum and the payoff.
        """
        if self.payoff <= 0:
            raise NothingToPay()
        if option is not PayOption.OTHER:
            if option not in self.options() or amount_minor != self.amount_of(option):
                raise QuoteChanged()
            return amount_minor
        if amount_minor <= 0:
            raise AmountRefused(_l("The amount must be more than zero."))
        if amount_minor < self.minimum:
            raise AmountRefused(
                _l("The smallest payment is %(amount)s.", amount=self._shown(self.minimum))
            )
        if amount_minor > self.maximum:
            raise AmountRefused(
                _l(
                    "That is more than you owe. To settle the loan, pay %(amount)s.",
                    amount=self._shown(self.maximum),
                )
            )
        return amount_minor

    def preview(self, amount_minor: int) -> AllocationPreview:
        """How ``amount_minor`` would be allocated now: exactly what the booking will do (for
        the payoff amount, after the payoff rebate the booking applies first)."""
        if amount_minor == self.payoff > 0:
            parts = payoff_parts(self.position, self.waterfall)
            allocation = Allocation(tuple(Part(i, c, amount) for i, c, amount in parts), 0)
            return self._preview(amount_minor, allocation)
        allocation = preview_allocation(self.loan, amount_minor, self.waterfall)
        return self._preview(amount_minor, allocation)

    @staticmethod
    def _preview(amount_minor: int, allocation: Allocation) -> AllocationPreview:
        lines: dict[int, PreviewLine] = {}
        for part in allocation.parts:
            line = lines.setdefault(part.installment.id, PreviewLine(part.installment, []))
            line.parts.append((part.component.value, part.amount_minor))
        return AllocationPreview(amount_minor, list(lines.values()), allocation)

    def _shown(self, amount_minor: int) -> str:
        return format_money(amount_minor, self.currency, str(get_locale() or "en"))


def minimum_payment(currency: str, payoff: int) -> int:
    """The smallest "other amount": whole units from the configuration, or the payoff if less."""
    units = current_app.config.get("PAYMENT_MINIMUM_UNITS", DEFAULT_MINIMUM_UNITS)
    return min(int(units) * 10 ** minor_exponent(currency), payoff)


def quote(loan: Loan, today: date) -> PayQuote:
    """The options for ``loan`` on the borrower's local ``today`` (reads loaded installments)."""
    position = loan_position(loan, today)
    payoff = max(position.payoff, 0)
    upcoming = position.next_installment
    return PayQuote(
        position=position,
        overdue=position.overdue,
        next_installment=position.overdue + upcoming.outstanding if upcoming else 0,
        payoff=payoff,
        minimum=minimum_payment(loan.currency, payoff),
        waterfall=tuple(waterfall_of(loan.product)),
    )


_CODE = re.compile(r"(?<![A-Za-z])[A-Za-z]{3}(?![A-Za-z])")


def read_amount(text: str | None, currency: str) -> int:
    """Minor units from what the borrower typed into "other amount", in the loan's ``currency``.

    The loan's own currency code or symbol around the number is accepted ("¥50", "50 CNY");
    another currency, a sign, too many decimals or anything that is not a number is refused
    with a message saying which (AmountRefused). Range checks are ``PayQuote.check``'s.
    """
    raw = (text or "").strip()
    if not raw:
        raise AmountRefused()
    if len(raw) > 40:
        raise AmountRefused(_l("Please enter an amount such as 100.00."))
    number = _without_currency(raw, currency)
    if number.startswith("-"):
        raise AmountRefused(_l("The amount must be more than zero."))
    try:
        return parse_amount(number, currency)
    except InvalidAmount:
        decimals = minor_exponent(currency)
        if re.fullmatch(r"[0-9,]*\.[0-9]+", number):
            raise AmountRefused(
                _l("Use at most %(count)s decimal places.", count=decimals)
            ) from None
        raise AmountRefused(_l("Please enter an amount such as 100.00.")) from None


def _without_currency(raw: str, currency: str) -> str:
    """The number, the loan's currency code or symbol taken off; another currency refused."""
    own = {currency, get_currency_symbol(currency, "en"), get_currency_symbol(currency, "zh_CN")}
    if currency == "CNY":
        own |= {"¥", "￥", "元", "RMB"}
    text = raw
    for mark in sorted(own, key=len, reverse=True):
        if text.upper().startswith(mark.upper()):
            text = text[len(mark) :]
        if text.upper().endswith(mark.upper()):
            text = text[: -len(mark)]
    text = text.strip()
    codes = {code.upper() for code in _CODE.findall(text)}
    if codes & list_currencies() or re.search(r"[$€£₩¥￥]", text):
        raise AmountRefused(
            _l(
                "This loan is repaid in %(currency)s: enter the amount in %(currency)s.",
                currency=currency,
            )
        )
    return text
