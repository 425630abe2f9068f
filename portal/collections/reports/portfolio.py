"""The collections portfolio: buckets, roll rates, cure, promise-kept and contact rates, recoveries.

Every figure is an aggregate in SQL, grouped by collector and stage, and then added up in Python
into the totals, the per-collector and the per-stage rows: the page costs the same handful of
queries (see ``portfolio_dashboard``) whether there are ten cases or ten million.

Definitions (the page repeats them):
- cure rate: cases cured in the period / cases open at any time in the period;
- promise-kept rate: promises resolved kept in the period / those resolved kept or broken;
- contact rate: open cases whose borrower had a message sent or delivered, or a call, in the
  last 30 days / open cases;
- recovered: payments received in the period on a loan while it had a case (from the day the
  case opened to the day it closed), credited to that case's collector and stage.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Date, and_, case, cast, exists, func, or_, select, type_coerce
from sqlalchemy.orm import aliased

from portal.auth.models import Role, User
from portal.collections.metrics import is_contact
from portal.collections.models import (
    CaseStatus,
    CollectionCase,
    CollectionRun,
    DelinquencySnapshot,
    PromiseStatus,
    PromiseToPay,
)
from portal.collections.strategy.services import current_strategy
from portal.extensions import db
from portal.loans.models import Payment
from portal.messaging.models import Message

PERIOD_DAYS = (30, 90, 180, 365)
DEFAULT_PERIOD_DAYS = 90
CONTACT_WINDOW = timedelta(days=30)
CURED = "cured"  # the roll-rate column of loans no longer overdue at the later month end
ROLL_MONTHS = 24  # month ends offered in the roll-rate picker


@dataclass(frozen=True)
class Rate:
    numerator: int
    denominator: int

    @property
    def value(self) -> Decimal | None:
        """The share, or None when there is nothing to divide by."""
        if not self.denominator:
            return None
        return Decimal(self.numerator) / Decimal(self.denominator)


@dataclass
class Breakdown:
    """The figures of everyone, one collector or one stage."""

    open_cases: int = 0
    contacted: int = 0
    overdue: dict[str, int] = field(default_factory=dict)  # currency -> minor units
    cases_in_period: int = 0
    cured: int = 0
    kept: int = 0
    broken: int = 0
    recovered: dict[str, int] = field(default_factory=dict)

    @property
    def contact_rate(self) -> Rate:
        return Rate(self.contacted, self.open_cases)

    @property
    def cure_rate(self) -> Rate:
        return Rate(self.cured, self.cases_in_period)

    @property
    def promise_kept_rate(self) -> Rate:
        return Rate(self.kept, self.kept + self.broken)


def _add(amounts: dict[str, int], currency: str, amount) -> None:
    amounts[currency] = amounts.get(currency, 0) + int(amount or 0)


@dataclass
class BucketRow:
    bucket: str
    loans: int = 0
    overdue: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RollMatrix:
    """Loans by bucket at ``earlier`` (rows) against their bucket at ``later`` (columns)."""

    earlier: date
    later: date
    rows: list[str]
    columns: list[str]  # the buckets, then CURED
    counts: dict[tuple[str, str], int]

    def total(self, row: str) -> int:
        return sum(self.counts.get((row, column), 0) for column in self.columns)

    def rate(self, row: str, column: str) -> Rate:
        return Rate(self.counts.get((row, column), 0), self.total(row))


@dataclass(frozen=True)
class Period:
    days: int
    start: date
    end: date
    since: datetime  # the start's local midnight, in UTC
    until: datetime  # now

    @property
    def by_week(self) -> bool:
        return self.days <= 90


def make_period(days: int, *, today: date, now: datetime, timezone: str) -> Period:
    """The ``days`` local calendar days up to and including ``today``."""
    start = today - timedelta(days=days - 1)
    since = datetime.combine(start, time(0), ZoneInfo(timezone)).astimezone(UTC)
    return Period(days, start, today, since, now)


@dataclass
class Dashboard:
    period: Period
    last_run: date | None
    buckets: list[BucketRow] = field(default_factory=list)
    overall: Breakdown = field(default_factory=Breakdown)
    by_collector: list[tuple[int | None, str | None, Breakdown]] = field(default_factory=list)
    by_stage: list[tuple[int, Breakdown]] = field(default_factory=list)
    roll: RollMatrix | None = None
    roll_choices: list[date] = field(default_factory=list)  # earlier month ends with a pair
    recovered_series: list[tuple[date, dict[str, int]]] = field(default_factory=list)

    @property
    def currencies(self) -> list[str]:
        found = {c for row in self.buckets for c in row.overdue} | set(self.overall.recovered)
        return sorted(found)


def _local_date(column, timezone: str, now: datetime):
    """The calendar date of a UTC timestamp column in ``timezone``.

    PostgreSQL converts with the zone's rules; SQLite shifts by the zone's offset at ``now``
    (exact for zones without daylight saving time, such as Asia/Shanghai).
    """
    if db.engine.dialect.name == "postgresql":
        return cast(func.timezone(timezone, column), Date)
    offset = now.astimezone(ZoneInfo(timezone)).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    return type_coerce(func.date(column, f"{minutes:+d} minutes"), Date)


def _month_end(day: date) -> date:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


class _Totals:
    """Adds grouped rows into the totals, the per-collector and the per-stage breakdowns."""

    def __init__(self) -> None:
        self.overall = Breakdown()
        self.collectors: dict[int | None, Breakdown] = defaultdict(Breakdown)
        self.stages: dict[int, Breakdown] = defaultdict(Breakdown)

    def each(self, collector: int | None, stage: int) -> tuple[Breakdown, ...]:
        return self.overall, self.collectors[collector], self.stages[stage]


def _open_cases(totals: _Totals, buckets: dict[str, BucketRow], now: datetime) -> None:
    c = CollectionCase
    # A contact as portal/collections/metrics.py defines it, within the window.
    contacted = exists().where(
        Message.borrower_id == c.borrower_id,
        is_contact(),
        Message.sent_at >= now - CONTACT_WINDOW,
        Message.sent_at <= now,
    )
    rows = db.session.execute(
        select(
            c.bucket,
            c.assigned_to,
            c.stage,
            c.currency,
            func.count(c.id),
            func.sum(c.overdue_total),
            func.sum(case((contacted, 1), else_=0)),
        )
        .where(c.status == CaseStatus.OPEN)
        .group_by(c.bucket, c.assigned_to, c.stage, c.currency)
    ).all()
    for bucket, collector, stage, currency, count, amount, reached in rows:
        row = buckets.setdefault(bucket, BucketRow(bucket))
        row.loans += count
        _add(row.overdue, currency, amount)
        for breakdown in totals.each(collector, stage):
            breakdown.open_cases += count
            breakdown.contacted += int(reached or 0)
            _add(breakdown.overdue, currency, amount)


def _cases_in_period(totals: _Totals, period: Period) -> None:
    c = CollectionCase
    cured = and_(
        c.status == CaseStatus.CURED, c.closed_on >= period.start, c.closed_on <= period.end
    )
    rows = db.session.execute(
        select(c.assigned_to, c.stage, func.count(c.id), func.sum(case((cured, 1), else_=0)))
        .where(c.opened_on <= period.end, or_(c.closed_on.is_(None), c.closed_on >= period.start))
        .group_by(c.assigned_to, c.stage)
    ).all()
    for collector, stage, count, cured_count in rows:
        for breakdown in totals.each(collector, stage):
            breakdown.cases_in_period += count
            breakdown.cured += int(cured_count or 0)


def _promises(totals: _Totals, period: Period) -> None:
    c, p = CollectionCase, PromiseToPay
    rows = db.session.execute(
        select(
            c.assigned_to,
            c.stage,
            func.sum(case((p.status == PromiseStatus.KEPT, 1), else_=0)),
            func.sum(case((p.status == PromiseStatus.BROKEN, 1), else_=0)),
        )
        .join(c, c.id == p.case_id)
        .where(
            p.status.in_([PromiseStatus.KEPT, PromiseStatus.BROKEN]),
            p.resolved_on >= period.start,
            p.resolved_on <= period.end,
        )
        .group_by(c.assigned_to, c.stage)
    ).all()
    for collector, stage, kept, broken in rows:
        for breakdown in totals.each(collector, stage):
            breakdown.kept += int(kept or 0)
            breakdown.broken += int(broken or 0)


def _recoveries(totals: _Totals, period: Period, timezone: str) -> list[tuple[date, str, int]]:
    """Add recoveries to the breakdowns; return (local day, currency, amount) rows. Two queries."""
    c = CollectionCase
    day = _local_date(Payment.received_at, timezone, period.until)
    paid = (
        select(
            c.assigned_to.label("collector"),
            c.stage.label("stage"),
            Payment.currency.label("currency"),
            Payment.amount_minor.label("amount"),
            day.label("day"),
        )
        .join(c, c.loan_id == Payment.loan_id)
        .where(
            Payment.received_at >= period.since,
            Payment.received_at <= period.until,
            day >= c.opened_on,
            or_(c.closed_on.is_(None), day <= c.closed_on),
        )
        .subquery()
    )
    for collector, stage, currency, amount in db.session.execute(
        select(paid.c.collector, paid.c.stage, paid.c.currency, func.sum(paid.c.amount)).group_by(
            paid.c.collector, paid.c.stage, paid.c.currency
        )
    ).all():
        for breakdown in totals.each(collector, stage):
            _add(breakdown.recovered, currency, amount)
    return [
        (row[0], row[1], int(row[2] or 0))
        for row in db.session.execute(
            select(paid.c.day, paid.c.currency, func.sum(paid.c.amount)).group_by(
                paid.c.day, paid.c.currency
            )
        ).all()
    ]


def _series(period: Period, days: list[tuple[date, str, int]]) -> list[tuple[date, dict]]:
    """Recoveries per week (periods up to 90 days) or per month, empty ones included."""

    def start_of(day: date) -> date:
        return day - timedelta(days=day.weekday()) if period.by_week else day.replace(day=1)

    points: dict[date, dict[str, int]] = {}
    cursor = start_of(period.start)
    while cursor <= period.end:
        points[cursor] = {}
        cursor = cursor + timedelta(days=7) if period.by_week else _month_end(cursor) + timedelta(1)
    for day, currency, amount in days:
        if isinstance(day, str):  # SQLite drivers may hand back text for a computed date
            day = date.fromisoformat(day)
        _add(points.setdefault(start_of(day), {}), currency, amount)
    return sorted(points.items())


def _roll_matrix(
    bucket_order: list[str], earlier_wanted: date | None
) -> tuple[RollMatrix | None, list[date]]:
    """The roll-rate matrix of a pair of consecutive month ends (the latest by default)."""
    dates = db.session.scalars(
        select(DelinquencySnapshot.as_of)
        .distinct()
        .order_by(DelinquencySnapshot.as_of.desc())
        .limit(ROLL_MONTHS + 1)
    ).all()
    present = set(dates)
    choices = [d for d in dates if _month_end(d + timedelta(days=1)) in present]
    if not choices:
        return None, []
    earlier = earlier_wanted if earlier_wanted in choices else choices[0]
    later = _month_end(earlier + timedelta(days=1))
    a, b = aliased(DelinquencySnapshot), aliased(DelinquencySnapshot)
    rows = db.session.execute(
        select(a.bucket, b.bucket, func.count())
        .select_from(a)
        .outerjoin(b, and_(b.loan_id == a.loan_id, b.as_of == later))
        .where(a.as_of == earlier)
        .group_by(a.bucket, b.bucket)
    ).all()
    counts = {(source, target or CURED): count for source, target, count in rows}
    found = {key[0] for key in counts} | {key[1] for key in counts if key[1] != CURED}
    order = [*bucket_order, *sorted(found - set(bucket_order))]
    return RollMatrix(earlier, later, order, [*order, CURED], counts), choices


def _collector_names() -> dict[int, str]:
    holders = select(CollectionCase.assigned_to).where(CollectionCase.assigned_to.is_not(None))
    rows = db.session.execute(
        select(User.id, User.name).where(
            or_(and_(User.role == Role.COLLECTOR, User.is_active_account), User.id.in_(holders))
        )
    ).all()
    return {row.id: row.name for row in rows}


def portfolio_dashboard(
    *, days: int, roll_from: date | None, today: date, now: datetime, timezone: str
) -> Dashboard:
    """Everything the portfolio page shows. At most ten queries, whatever the data size.

    Before the first collections run there is nothing to show: one query, an empty dashboard.
    """
    period = make_period(days, today=today, now=now, timezone=timezone)
    last_run = db.session.scalar(select(func.max(CollectionRun.as_of)))
    dashboard = Dashboard(period, last_run)
    if last_run is None:
        return dashboard
    bucket_order = [b["name"] for b in current_strategy().buckets]
    totals = _Totals()
    buckets: dict[str, BucketRow] = {}
    _open_cases(totals, buckets, now)
    _cases_in_period(totals, period)
    _promises(totals, period)
    days_recovered = _recoveries(totals, period, timezone)
    dashboard.roll, dashboard.roll_choices = _roll_matrix(bucket_order, roll_from)
    names = _collector_names()

    dashboard.buckets = [buckets.get(name, BucketRow(name)) for name in bucket_order] + [
        buckets[name] for name in sorted(set(buckets) - set(bucket_order))
    ]
    dashboard.overall = totals.overall
    collector_ids = sorted(set(names) | {k for k in totals.collectors if k is not None})
    dashboard.by_collector = sorted(
        [(i, names.get(i), totals.collectors.get(i, Breakdown())) for i in collector_ids],
        key=lambda item: (item[1] or "", item[0] or 0),
    )
    if None in totals.collectors:
        dashboard.by_collector.append((None, None, totals.collectors[None]))
    dashboard.by_stage = [(n, totals.stages.get(n, Breakdown())) for n in (1, 2, 3, 4)]
    dashboard.recovered_series = _series(period, days_recovered)
    return dashboard
