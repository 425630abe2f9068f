"""The generated portfolio of bench/collections_run.py: loans, their installments and payments,
repayment plans (``_plans.py``), and what happens between the first and the daily run.

Not a benchmark itself. Generated inside the database with set-based INSERT ... SELECT
statements over a numbers table (no Python loop over loans): see collections_run.py's
docstring for the shape of the portfolio.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from _harness import progress
from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    cast,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)

from portal.auth.models import BorrowerProfile, Role, User
from portal.auth.services import create_user
from portal.collections.models import CaseStatus, CollectionCase, PromiseToPay
from portal.dbtypes import UTCDateTime
from portal.extensions import db
from portal.loans.models import Installment, Loan, Payment
from portal.loans.schedule import add_months
from portal.plans.queries import in_active_plan

AS_OF = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai on AS_OF
MAX_AGE_DAYS = 540  # loans are disbursed 1..540 days before AS_OF
TERMS = (3, 6, 9, 12)
CURRENT, PAID_OFF = 52, 55  # behaviour classes out of 100 (see fill_loan_shapes)
COLLECTORS = 20
NO_PASSWORD = "bench-not-a-hash"  # noqa: S105 - no account here can sign in: not an argon2 hash
SEQ_CHUNK = 50_000
HASH_PRIME = 4_294_967_291  # the largest prime below 2**32: products stay inside BIGINT

helpers = MetaData()
bench_seq = Table("bench_seq", helpers, Column("n", Integer, primary_key=True))
# Due dates for a loan disbursed d days before AS_OF, installment by installment.
bench_calendar = Table(
    "bench_calendar",
    helpers,
    Column("d", Integer, primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("disbursed_on", Date, nullable=False),
    Column("due_date", Date, nullable=False),
    # When its payment arrived: noon in Shanghai on the due date, never after the day before AS_OF.
    Column("paid_at", UTCDateTime, nullable=False),
)
# How many installments of a (d, terms) loan are due before AS_OF.
bench_due_count = Table(
    "bench_due_count",
    helpers,
    Column("d", Integer, primary_key=True),
    Column("terms", Integer, primary_key=True),
    Column("n_due", Integer, nullable=False),
)
# Each generated loan's shape: age, terms, how many installments are paid, part-payment.
bench_loan = Table(
    "bench_loan",
    helpers,
    Column("n", Integer, primary_key=True),
    Column("borrower", Integer, nullable=False),
    Column("d", Integer, nullable=False),
    Column("terms", Integer, nullable=False),
    Column("paid_through", Integer, nullable=False),
    Column("partial", Integer, nullable=False),
)


# --- Database ------------------------------------------------------------------------------


def on_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def step(label: str, work: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    result = work()
    db.session.commit()
    progress(f"{label} in {time.perf_counter() - started:.1f} s")
    return result


# --- Generation ----------------------------------------------------------------------------


def fill_numbers(count: int) -> None:
    for start in range(1, count + 1, SEQ_CHUNK):
        stop = min(start + SEQ_CHUNK, count + 1)
        db.session.execute(insert(bench_seq), [{"n": n} for n in range(start, stop)])


def fill_calendar() -> None:
    calendar_rows, count_rows = [], []
    for d in range(1, MAX_AGE_DAYS + 1):
        disbursed = AS_OF - timedelta(days=d)
        dues = [add_months(disbursed, seq) for seq in range(1, max(TERMS) + 1)]
        calendar_rows += [
            {
                "d": d,
                "seq": seq,
                "disbursed_on": disbursed,
                "due_date": due,
                "paid_at": min(
                    datetime(due.year, due.month, due.day, 4, tzinfo=UTC),
                    NOW - timedelta(days=1),
                ),
            }
            for seq, due in enumerate(dues, start=1)
        ]
        count_rows += [
            {"d": d, "terms": terms, "n_due": sum(due < AS_OF for due in dues[:terms])}
            for terms in TERMS
        ]
    db.session.execute(insert(bench_calendar), calendar_rows)
    db.session.execute(insert(bench_due_count), count_rows)


def hashed(column, multiplier: int, modulus: int):
    """A deterministic spread of ``column`` over 0..modulus-1 (portable integer arithmetic).

    Reducing modulo a large prime first keeps attributes drawn with different multipliers from
    lining up with each other or with ``column % k`` (which the between-days step selects on).
    """
    product = cast(column, BigInteger) * literal(multiplier, BigInteger)
    return cast((product % literal(HASH_PRIME, BigInteger)) % modulus, Integer)


def fill_loan_shapes(loans: int, borrowers: int) -> None:
    n = bench_seq.c.n
    shape = (
        select(
            n.label("n"),
            (1 + (n - 1) % borrowers).label("borrower"),
            (3 * (1 + hashed(n, 104_729, len(TERMS)))).label("terms"),
            hashed(n, 2_654_435_761, 100).label("klass"),
            hashed(n, 40_503, MAX_AGE_DAYS).label("age"),
        )
        .where(n <= loans)
        .subquery()
    )
    # Most loans are still running: disbursed up to one month more than their term ago.
    shape = select(
        *[shape.c[name] for name in ("n", "borrower", "terms", "klass")],
        (1 + shape.c.age % (30 * shape.c.terms + 30)).label("d"),
    ).subquery()
    due = bench_due_count.c.n_due
    klass = shape.c.klass  # behaviour: < CURRENT current, < PAID_OFF paid off, else behind
    behind = case(  # installments missed (the youngest loans have fewer to miss)
        (klass < 72, 0),
        (klass < 82, 1),
        (klass < 88, 2),
        (klass < 95, 3 + shape.c.n % 3),
        else_=6 + shape.c.n % 6,
    )
    paid_through = case(
        (klass < CURRENT, due),
        (klass < PAID_OFF, shape.c.terms),
        (due - 1 - behind < 0, 0),
        else_=due - 1 - behind,
    )
    partial = case(
        (and_(klass < CURRENT, shape.c.n % 10 == 0), 1),  # next installment part-prepaid
        (and_(klass >= PAID_OFF, shape.c.n % 4 == 0), 1),  # oldest missed one part-paid
        else_=0,
    )
    db.session.execute(
        insert(bench_loan).from_select(
            ["n", "borrower", "d", "terms", "paid_through", "partial"],
            select(
                shape.c.n, shape.c.borrower, shape.c.d, shape.c.terms, paid_through, partial
            ).join(
                bench_due_count,
                and_(bench_due_count.c.d == shape.c.d, bench_due_count.c.terms == shape.c.terms),
            ),
        )
    )


def fill_borrowers(borrowers: int) -> None:
    n = bench_seq.c.n
    as_text = cast(n, String)
    db.session.execute(
        insert(User.__table__).from_select(
            ["id", "email", "password_hash", "role", "name", "timezone", "is_active_account"]
            + ["created_at"],
            select(
                n,
                literal("b") + as_text + literal("@bench.test"),
                literal(NO_PASSWORD),
                literal(Role.BORROWER.value),
                literal("Borrower ") + as_text,
                literal("Asia/Shanghai"),
                literal(True),
                literal(NOW, UTCDateTime),
            ).where(n <= borrowers),
        )
    )
    db.session.execute(
        insert(BorrowerProfile.__table__).from_select(
            ["user_id", "customer_number", "cease_contact"],
            select(n, literal("C") + as_text, literal(False)).where(n <= borrowers),
        )
    )


def fill_loans() -> None:
    b, cal = bench_loan, bench_calendar
    db.session.execute(
        insert(Loan.__table__).from_select(
            ["id", "reference", "borrower_id", "product", "principal_minor", "interest_rate_bps"]
            + ["fees_minor", "currency", "disbursed_on", "status", "created_at"],
            select(
                b.c.n,
                literal("LN-B") + cast(b.c.n, String),
                b.c.borrower,
                literal("wallet_cash"),
                b.c.terms * 20_000 * (1 + b.c.n % 10),
                literal(1800),
                literal(2_000),
                literal("CNY"),
                cal.c.disbursed_on,
                case((b.c.paid_through >= b.c.terms, "paid_off"), else_="active"),
                literal(NOW, UTCDateTime),
            ).join(cal, and_(cal.c.d == b.c.d, cal.c.seq == 1)),
        )
    )


def fill_installments() -> None:
    b, cal = bench_loan, bench_calendar
    principal = 20_000 * (1 + b.c.n % 10)
    interest = (b.c.terms - cal.c.seq + 1) * 500
    fee = case((cal.c.seq == 1, 2_000), else_=0)
    paid = cal.c.seq <= b.c.paid_through
    part = and_(b.c.partial == 1, cal.c.seq == b.c.paid_through + 1)
    db.session.execute(
        insert(Installment.__table__).from_select(
            ["loan_id", "sequence", "due_date", "principal_due", "interest_due", "fee_due"]
            + ["principal_paid", "interest_paid", "fee_paid"],
            select(
                b.c.n,
                cal.c.seq,
                cal.c.due_date,
                principal,
                interest,
                fee,
                case((paid, principal), (part, principal // 2), else_=0),
                case((or_(paid, part), interest), else_=0),
                case((or_(paid, part), fee), else_=0),
            ).join(cal, and_(cal.c.d == b.c.d, cal.c.seq <= b.c.terms)),
        )
    )


def fill_payments() -> None:
    """One payment per paid or part-paid installment (the ledger's allocations are left out:
    the run never reads them)."""
    b, cal = bench_loan, bench_calendar
    principal = 20_000 * (1 + b.c.n % 10)
    interest = (b.c.terms - cal.c.seq + 1) * 500
    fee = case((cal.c.seq == 1, 2_000), else_=0)
    part = cal.c.seq == b.c.paid_through + 1
    db.session.execute(
        insert(Payment.__table__).from_select(
            ["loan_id", "amount_minor", "currency", "method", "received_at", "created_at"],
            select(
                b.c.n,
                case((part, principal // 2), else_=principal) + interest + fee,
                literal("CNY"),
                literal("alipay"),
                cal.c.paid_at,
                cal.c.paid_at,
            ).join(
                cal,
                and_(
                    cal.c.d == b.c.d,
                    cal.c.seq <= b.c.terms,
                    or_(cal.c.seq <= b.c.paid_through, and_(b.c.partial == 1, part)),
                ),
            ),
        )
    )


def add_collectors() -> None:
    if on_postgres():
        for table in ("user_account", "loan"):
            db.session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
                )
            )
    for number in range(1, COLLECTORS + 1):
        create_user(
            email=f"collector{number}@bench.test",
            password_hash=NO_PASSWORD,
            role=Role.COLLECTOR,
            name=f"Collector {number}",
            timezone="Asia/Shanghai",
        )


def analyze() -> None:
    """Fresh statistics (and, on PostgreSQL, a visibility map), as autovacuum would leave them."""
    db.session.commit()
    if on_postgres():
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def between_days() -> int:
    """What happens between two runs: 5% of the open cases not in a repayment plan pay up;
    promises to pay on 2% of them (a third due on AS_OF, the rest 5 days later), half of those
    with a payment of the promised amount. Returns how many promises."""
    c = CollectionCase
    open_case = and_(c.status == CaseStatus.OPEN, ~in_active_plan(c.loan_id))
    paying = select(c.loan_id).where(open_case, hashed(c.loan_id, 69_069, 20) == 0)
    i = Installment
    db.session.execute(
        update(i)
        .where(i.loan_id.in_(paying), i.due_date <= AS_OF)
        .values(principal_paid=i.principal_due, interest_paid=i.interest_due, fee_paid=i.fee_due)
        .execution_options(synchronize_session=False)
    )
    promising = and_(open_case, hashed(c.loan_id, 22_695_477, 50) == 1)
    promised = db.session.execute(
        insert(PromiseToPay.__table__)
        .from_select(
            ["case_id", "amount_minor", "currency", "promised_on", "made_at", "status"],
            select(
                c.id,
                literal(10_000),
                c.currency,
                case((c.loan_id % 3 == 0, AS_OF), else_=AS_OF + timedelta(days=5)),
                literal(NOW, UTCDateTime),
                literal("pending"),
            ).where(promising),
        )
        .execution_options(preserve_rowcount=True)
    ).rowcount
    db.session.execute(
        insert(Payment.__table__).from_select(
            ["loan_id", "amount_minor", "currency", "method", "received_at", "created_at"],
            select(
                c.loan_id,
                literal(10_000),
                c.currency,
                literal("alipay"),
                literal(NOW + timedelta(hours=1), UTCDateTime),
                literal(NOW + timedelta(hours=1), UTCDateTime),
            ).where(promising, c.loan_id % 2 == 1),
        )
    )
    return promised
