"""The pay page's options and amounts, and what an "other amount" may be."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.extensions import db
from portal.loans.models import Loan
from portal.payments.models import PayOption
from portal.payments.quotes import AmountRefused, NothingToPay, QuoteChanged, quote, read_amount
from tests.payments.conftest import PAY_TODAY as TODAY


@pytest.fixture
def offer(app_ctx, overdue_loan):
    _borrower, loan_id = overdue_loan
    return quote(db.session.get(Loan, loan_id), TODAY)


def test_four_options_with_amounts_from_the_loan_position(offer):
    """Overdue, next installment (with the overdue), other, payoff, from loan_position."""
    position = offer.position
    assert offer.options() == [
        PayOption.OVERDUE,
        PayOption.NEXT_INSTALLMENT,
        PayOption.OTHER,
        PayOption.PAYOFF,
    ]
    assert offer.overdue == position.overdue == 221_000
    assert offer.next_installment == position.overdue + position.next_installment.outstanding
    assert offer.payoff == position.payoff == 323_000
    assert (offer.minimum, offer.maximum) == (100, 323_000)


def test_paying_the_next_installment_leaves_it_paid(offer):
    """The next-installment amount, allocated oldest first, pays that installment in full."""
    preview = offer.preview(offer.next_installment)
    paid = {line.installment.sequence: line.total for line in preview.lines}
    assert paid[offer.position.next_installment.sequence] == (
        offer.position.next_installment.outstanding
    )
    assert preview.credit == 0


def test_nothing_overdue_offers_no_overdue_option(app_ctx, make_user, make_loan):
    """A loan on schedule offers the next installment, another amount and the payoff."""
    borrower = make_user()
    loan = db.session.get(Loan, make_loan(borrower.id, disbursed_on=TODAY))
    options = quote(loan, TODAY).options()
    assert options == [PayOption.NEXT_INSTALLMENT, PayOption.OTHER, PayOption.PAYOFF]


def test_a_paid_off_loan_offers_nothing(app_ctx, overdue_loan):
    """With nothing owed, no option is offered and any amount is refused."""
    loan = db.session.get(Loan, overdue_loan[1])
    for installment in loan.installments:
        for part in ("principal", "interest", "fee"):
            setattr(installment, f"{part}_paid", getattr(installment, f"{part}_due"))
    offer = quote(loan, TODAY)
    assert offer.options() == []
    with pytest.raises(NothingToPay):
        offer.check(PayOption.OTHER, 100)


def test_minimum_is_configurable_and_never_above_the_payoff(app, offer):
    """PAYMENT_MINIMUM_UNITS whole units, or the payoff when that is smaller."""
    from portal.payments.quotes import minimum_payment

    app.config["PAYMENT_MINIMUM_UNITS"] = 50
    assert minimum_payment("CNY", 323_000) == 5_000
    assert minimum_payment("CNY", 1_234) == 1_234
    assert minimum_payment("JPY", 100_000) == 50


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (0, "more than zero"),
        (-100, "more than zero"),
        (99, "smallest payment is CN¥1.00"),
        (323_001, "more than you owe"),
    ],
)
def test_other_amount_outside_the_range_is_refused(offer, amount, message):
    """Zero, negative, below the minimum or above the payoff: refused with the reason."""
    with force_locale("en"):
        with pytest.raises(AmountRefused) as refused:
            offer.check(PayOption.OTHER, amount)
        assert message in str(refused.value.message)


def test_other_amount_within_the_range_is_taken(offer):
    assert offer.check(PayOption.OTHER, 100) == 100
    assert offer.check(PayOption.OTHER, 323_000) == 323_000


def test_a_fixed_option_must_be_the_amount_shown(offer):
    """An option's amount that changed since the page was shown is refused (QuoteChanged)."""
    assert offer.check(PayOption.OVERDUE, 221_000) == 221_000
    for stale in (220_999, 221_001, 0):
        with pytest.raises(QuoteChanged):
            offer.check(PayOption.OVERDUE, stale)


@pytest.mark.parametrize(
    ("text", "minor"),
    [
        ("12", 1200),
        ("12.5", 1250),
        ("1,234.56", 123456),
        ("¥50", 5000),
        ("50 CNY", 5000),
        ("￥50.00", 5000),
        ("50元", 5000),
        (" 7.00 ", 700),
        (".5", 50),
    ],
)
def test_amount_text_in_the_loan_currency_is_read(app_ctx, text, minor):
    assert read_amount(text, "CNY") == minor


@pytest.mark.parametrize(
    ("text", "en", "zh"),
    [
        ("", "Please enter an amount", "请输入"),
        ("-5", "more than zero", "大于零"),
        ("1.234", "at most 2 decimal places", "2 位小数"),
        ("$10", "repaid in CNY", "CNY"),
        ("10 USD", "repaid in CNY", "CNY"),
        ("€10", "repaid in CNY", "CNY"),
        ("1e5", "such as 100.00", "100.00"),
        ("NaN", "such as 100.00", "100.00"),
        ("１２", "such as 100.00", "100.00"),
        ("1" * 41, "such as 100.00", "100.00"),
        ("12\x00", "such as 100.00", "100.00"),
    ],
)
def test_hostile_amount_text_is_refused_in_both_languages(app_ctx, text, en, zh):
    """Empty, negative, too many decimals, another currency, not a number: a clear message."""
    with pytest.raises(AmountRefused) as refused:
        read_amount(text, "CNY")
    with force_locale("en"):
        assert en in str(refused.value.message)
    with force_locale("zh_CN"):
        assert zh in str(refused.value.message)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=200)
@given(text=st.text(max_size=50))
def test_any_text_is_an_amount_or_a_refusal(app_ctx, text):
    """Whatever is typed, reading it gives non-negative minor units or AmountRefused."""
    try:
        assert read_amount(text, "CNY") >= 0
    except AmountRefused:
        pass


def test_the_first_fixed_amount_is_chosen_by_default(app_ctx, make_user, make_loan):
    """Overdue when something is; else the next installment or the payoff, never "other"."""
    borrower = make_user()
    overdue = quote(db.session.get(Loan, make_loan(borrower.id)), TODAY)
    assert overdue.default_option() is PayOption.OVERDUE
    last_one = quote(
        db.session.get(Loan, make_loan(borrower.id, terms=1, disbursed_on=TODAY)), TODAY
    )
    assert last_one.options() == [PayOption.OTHER, PayOption.PAYOFF]
    assert last_one.default_option() is PayOption.PAYOFF
