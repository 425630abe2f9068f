from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from portal.loans.schedule import add_months, build_schedule


def test_month_end_dates_clamp_to_the_last_day():
    """Jan 31 plus one month is Feb 28, or Feb 29 in a leap year; later months recover."""
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2028, 1, 31), 2) == date(2028, 3, 31)
    assert add_months(date(2026, 11, 30), 2) == date(2027, 1, 30)
    assert add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)


def test_schedule_interest_declines_with_balance():
    """Equal principal; monthly interest on the remaining balance; fee with the first."""
    rows = build_schedule(
        principal_minor=300_000,
        annual_rate_bps=2400,
        fee_minor=3_000,
        disbursed_on=date(2026, 1, 31),
        terms=3,
    )
    assert [r.principal_due for r in rows] == [100_000, 100_000, 100_000]
    assert [r.interest_due for r in rows] == [6_000, 4_000, 2_000]
    assert [r.fee_due for r in rows] == [3_000, 0, 0]
    assert [r.due_date for r in rows] == [date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]


@given(
    principal=st.integers(min_value=1, max_value=10**10),
    terms=st.integers(min_value=1, max_value=36),
    rate=st.integers(min_value=0, max_value=36_000),
)
def test_schedule_principal_adds_up_exactly(principal, terms, rate):
    """Whatever the amounts, the installments' principal sums to the loan's, to the cent."""
    rows = build_schedule(
        principal_minor=principal,
        annual_rate_bps=rate,
        fee_minor=0,
        disbursed_on=date(2026, 1, 1),
        terms=terms,
    )
    assert sum(r.principal_due for r in rows) == principal
    assert all(r.principal_due >= 0 and r.interest_due >= 0 for r in rows)
    assert [r.sequence for r in rows] == list(range(1, terms + 1))
