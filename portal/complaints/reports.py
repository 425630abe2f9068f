"""Complaint reports for admins: what came in over a period and how it was handled.

For the complaints received in a period (local dates, both included): volumes by category and by
channel, how many were acknowledged late and resolved late, the median time to acknowledge and to
resolve, remedies paid per currency, root causes, and complaints per 1,000 active loans.

Late means after the due instant stored on the complaint (``acknowledge_due_at``,
``response_due_at``, the instant the last allowed local day ends), or not done yet and that
instant passed by ``now``. Six statements, whatever the number of complaints.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select

from portal.complaints.clocks import end_of_day
from portal.complaints.models import Complaint
from portal.extensions import db
from portal.loans.models import Loan, LoanStatus
from portal.sqlutil import days_elapsed

DEFAULT_PERIOD_DAYS = 90
MAX_PERIOD_DAYS = 3660  # ten years: beyond that a date is more likely a typing mistake


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # included


def default_period(today: date) -> Period:
    """The last 90 days, today included."""
    return Period(today - timedelta(days=DEFAULT_PERIOD_DAYS - 1), today)


@dataclass(frozen=True)
class Volume:
    key: str  # a category or channel code ("" for the total)
    complaints: int
    acknowledged_late: int
    resolved_late: int


@dataclass(frozen=True)
class ComplaintReport:
    period: Period
    by_category: list[Volume]
    by_channel: list[Volume]
    by_root_cause: list[tuple[str, int]]  # recorded causes only, most frequent first
    remedies: dict[str, int]  # currency -> minor units granted
    median_days_to_acknowledge: float | None
    median_days_to_resolve: float | None
    active_loans: int

    @property
    def total(self) -> Volume:
        rows = self.by_category
        return Volume(
            "",
            sum(v.complaints for v in rows),
            sum(v.acknowledged_late for v in rows),
            sum(v.resolved_late for v in rows),
        )

    @property
    def per_thousand_loans(self) -> float | None:
        if not self.active_loans:
            return None
        return self.total.complaints * 1000 / self.active_loans


def _late(done_at, due_at, now: datetime):
    return or_(done_at >= due_at, and_(done_at.is_(None), due_at <= now))


def _volumes(column, received, now: datetime) -> list[Volume]:
    late_ack = _late(Complaint.acknowledged_at, Complaint.acknowledge_due_at, now)
    late_resolve = _late(Complaint.resolved_at, Complaint.response_due_at, now)
    # Withdrawn complaints are never resolved: they are not late for it.
    late_resolve = and_(late_resolve, Complaint.withdrawn_at.is_(None))
    statement = (
        select(
            column,
            func.count(),
            func.count().filter(late_ack),
            func.count().filter(late_resolve),
        )
        .where(received)
        .group_by(column)
        .order_by(func.count().desc(), column)
    )
    return [Volume(key.value, n, ack, res) for key, n, ack, res in db.session.execute(statement)]


def _median_days(done_at, received):
    """The median of the days from receipt to ``done_at``, over those done (window functions:
    the same SQL on SQLite and PostgreSQL)."""
    days = days_elapsed(done_at, Complaint.received_at)
    ranked = (
        select(
            days.label("days"),
            func.row_number().over(order_by=days).label("position"),
            func.count().over().label("n"),
        )
        .where(received, done_at.is_not(None))
        .subquery()
    )
    middle = ranked.c.position.between((ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2)
    return select(func.avg(ranked.c.days)).where(middle).scalar_subquery()


def complaint_report(period: Period, *, timezone: str, now: datetime) -> ComplaintReport:
    zone = ZoneInfo(timezone)
    starts = end_of_day(period.start - timedelta(days=1), zone)
    ends = end_of_day(period.end, zone)
    received = and_(Complaint.received_at >= starts, Complaint.received_at < ends)

    causes = db.session.execute(
        select(Complaint.root_cause, func.count())
        .where(received, Complaint.root_cause.is_not(None))
        .group_by(Complaint.root_cause)
        .order_by(func.count().desc(), Complaint.root_cause)
    )
    remedies = db.session.execute(
        select(Complaint.remedy_currency, func.sum(Complaint.remedy_minor))
        .where(received, Complaint.remedy_minor > 0, Complaint.remedy_currency.is_not(None))
        .group_by(Complaint.remedy_currency)
    )
    medians = db.session.execute(
        select(
            _median_days(Complaint.acknowledged_at, received),
            _median_days(Complaint.resolved_at, received),
        )
    ).one()
    active_loans = db.session.scalar(
        select(func.count()).select_from(Loan).where(Loan.status == LoanStatus.ACTIVE)
    )
    return ComplaintReport(
        period=period,
        by_category=_volumes(Complaint.category, received, now),
        by_channel=_volumes(Complaint.channel, received, now),
        by_root_cause=[(str(cause), count) for cause, count in causes],
        remedies={str(currency): int(minor or 0) for currency, minor in remedies},
        median_days_to_acknowledge=None if medians[0] is None else float(medians[0]),
        median_days_to_resolve=None if medians[1] is None else float(medians[1]),
        active_loans=active_loans or 0,
    )
