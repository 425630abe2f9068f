"""The overdue report: open cases with their loan, borrower and collector, filtered and sorted.

Every query is scoped to the cases the viewer may open (``cases_visible_to``, the case pages'
rule): a collector's report and CSV list their own cases, an admin's every case.

A page costs two queries (totals per currency, then the rows); the CSV export streams the same
rows in batches from a server-side cursor, so memory stays flat whatever the portfolio size.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import aliased

from portal.audit.services import record as audit
from portal.auth.models import Role, User
from portal.collections.cases.access import Viewer, cases_visible_to
from portal.collections.labels import bucket_label, stage_label
from portal.collections.metrics import last_contact_at
from portal.collections.models import CaseStatus, CollectionCase
from portal.csvexport import stream_csv
from portal.extensions import db
from portal.loans.models import Loan
from portal.money import minor_exponent

PAGE_SIZE = 50
EXPORT_BATCH = 1000
SORTS = ("dpd", "amount")

Borrower = aliased(User, name="borrower")
Collector = aliased(User, name="collector")
_case = CollectionCase
OVERDUE_TOTAL = (
    _case.overdue_principal + _case.overdue_interest + _case.overdue_fee + _case.overdue_late_charge
)


@dataclass(frozen=True)
class OverdueFilters:
    """What the report shows; None means any. Amounts are minor units of ``currency``."""

    bucket: str | None = None
    min_dpd: int | None = None
    max_dpd: int | None = None
    stage: int | None = None
    collector_id: int | None = None
    unassigned: bool = False
    currency: str | None = None
    min_amount: int | None = None
    max_amount: int | None = None
    sort: str = "dpd"
    descending: bool = True


@dataclass(frozen=True)
class CurrencyTotal:
    """The totals row of one currency (amounts are never added across currencies)."""

    currency: str
    cases: int
    principal: int
    interest: int
    fee: int
    late_charge: int = 0

    @property
    def total(self) -> int:
        return self.principal + self.interest + self.fee + self.late_charge


@dataclass(frozen=True)
class OverduePage:
    rows: list  # Row objects: see ROW_COLUMNS
    totals: list[CurrencyTotal]
    count: int
    page: int
    pages: int


ROW_COLUMNS = (
    _case.id.label("case_id"),
    _case.loan_id,
    Loan.reference.label("loan_reference"),
    Borrower.name.label("borrower_name"),
    _case.days_past_due,
    _case.bucket,
    _case.overdue_principal,
    _case.overdue_interest,
    _case.overdue_fee,
    _case.overdue_late_charge,
    OVERDUE_TOTAL.label("overdue_total"),
    _case.currency,
    _case.stage,
    Collector.name.label("collector_name"),
    last_contact_at(_case.borrower_id).label("last_contact_at"),
)


def _filtered(statement: Select, filters: OverdueFilters, visible: ColumnElement[bool]) -> Select:
    """``statement`` narrowed to the open cases in ``visible`` that match ``filters``."""
    statement = statement.where(_case.status == CaseStatus.OPEN, visible)
    if filters.bucket is not None:
        statement = statement.where(_case.bucket == filters.bucket)
    if filters.min_dpd is not None:
        statement = statement.where(_case.days_past_due >= filters.min_dpd)
    if filters.max_dpd is not None:
        statement = statement.where(_case.days_past_due <= filters.max_dpd)
    if filters.stage is not None:
        statement = statement.where(_case.stage == filters.stage)
    if filters.unassigned:
        statement = statement.where(_case.assigned_to.is_(None))
    elif filters.collector_id is not None:
        statement = statement.where(_case.assigned_to == filters.collector_id)
    if filters.currency is not None:
        statement = statement.where(_case.currency == filters.currency)
    if filters.min_amount is not None:
        statement = statement.where(OVERDUE_TOTAL >= filters.min_amount)
    if filters.max_amount is not None:
        statement = statement.where(OVERDUE_TOTAL <= filters.max_amount)
    return statement


def _rows_statement(filters: OverdueFilters, visible: ColumnElement[bool]) -> Select:
    key = _case.days_past_due if filters.sort == "dpd" else OVERDUE_TOTAL
    order = (key.desc(), _case.id.desc()) if filters.descending else (key.asc(), _case.id.asc())
    return _filtered(
        select(*ROW_COLUMNS)
        .select_from(_case)
        .join(Loan, Loan.id == _case.loan_id)
        .join(Borrower, Borrower.id == _case.borrower_id)
        .outerjoin(Collector, Collector.id == _case.assigned_to),
        filters,
        visible,
    ).order_by(*order)


def overdue_totals(filters: OverdueFilters, visible: ColumnElement[bool]) -> list[CurrencyTotal]:
    """Cases and overdue amounts of the filtered cases, per currency. One query."""
    rows = db.session.execute(
        _filtered(
            select(
                _case.currency,
                func.count(_case.id),
                func.coalesce(func.sum(_case.overdue_principal), 0),
                func.coalesce(func.sum(_case.overdue_interest), 0),
                func.coalesce(func.sum(_case.overdue_fee), 0),
                func.coalesce(func.sum(_case.overdue_late_charge), 0),
            ).group_by(_case.currency),
            filters,
            visible,
        ).order_by(_case.currency)
    ).all()
    return [CurrencyTotal(r[0], r[1], int(r[2]), int(r[3]), int(r[4]), int(r[5])) for r in rows]


def overdue_page(
    filters: OverdueFilters, page: int, *, viewer: Viewer, per_page: int = PAGE_SIZE
) -> OverduePage:
    """One page of the open cases ``viewer`` may open, sorted as asked, with totals. Two queries
    whatever the page size (three when the visibility setting is read).

    A page past the end shows the last page.
    """
    visible = cases_visible_to(viewer)
    totals = overdue_totals(filters, visible)
    count = sum(t.cases for t in totals)
    pages = max(1, -(-count // per_page))
    page = min(max(page, 1), pages)
    rows = db.session.execute(
        _rows_statement(filters, visible).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return OverduePage(list(rows), totals, count, page, pages)


@dataclass(frozen=True)
class FilterChoices:
    """What the filter form offers: the strategy's buckets, the collectors, the currencies."""

    collectors: list[tuple[int, str]]
    currencies: list[str]


def filter_choices(viewer: Viewer) -> FilterChoices:
    """For an admin: the collectors (and anyone holding open cases); for others: who holds the
    open cases they may open. The currencies of those cases. Two queries."""
    visible = cases_visible_to(viewer)
    holders = select(_case.assigned_to).where(
        _case.status == CaseStatus.OPEN, _case.assigned_to.is_not(None), visible
    )
    offered: ColumnElement[bool] = User.id.in_(holders)
    if viewer.role is Role.ADMIN:
        offered = offered | (User.role == Role.COLLECTOR)
    collectors = db.session.execute(
        select(User.id, User.name).where(offered).order_by(User.name, User.id)
    ).all()
    currencies = db.session.scalars(
        select(_case.currency)
        .distinct()
        .where(_case.status == CaseStatus.OPEN, visible)
        .order_by(_case.currency)
    ).all()
    return FilterChoices([(r.id, r.name) for r in collectors], list(currencies))


# --- CSV export -------------------------------------------------------------------------------


class _Decimals:
    """Minor units as exact decimal strings ("1234.50"), the exponent looked up once per code."""

    def __init__(self) -> None:
        self._exponents: dict[str, int] = {}

    def __call__(self, amount_minor: int, currency: str) -> str:
        exponent = self._exponents.get(currency)
        if exponent is None:
            exponent = self._exponents[currency] = minor_exponent(currency)
        return str(Decimal(int(amount_minor)).scaleb(-exponent))


def csv_header() -> list[str]:
    """The export's column names, in the reader's language."""
    return [
        _("Loan ID"),
        _("Loan reference"),
        _("Borrower"),
        _("Days past due"),
        _("Bucket"),
        _("Principal overdue"),
        _("Interest overdue"),
        _("Fees overdue"),
        _("Late charges overdue"),
        _("Total overdue"),
        _("Currency"),
        _("Stage"),
        _("Collector"),
        _("Last contact (UTC)"),
    ]


def _csv_row(row, decimals: _Decimals) -> list:
    return [
        row.loan_id,
        row.loan_reference,
        row.borrower_name,
        row.days_past_due,
        bucket_label(row.bucket),
        decimals(row.overdue_principal, row.currency),
        decimals(row.overdue_interest, row.currency),
        decimals(row.overdue_fee, row.currency),
        decimals(row.overdue_late_charge, row.currency),
        decimals(row.overdue_total, row.currency),
        row.currency,
        stage_label(row.stage),
        row.collector_name,
        row.last_contact_at.isoformat(timespec="seconds") if row.last_contact_at else "",
    ]


def _batches(statement: Select, batch: int) -> Iterator[list[list]]:
    """The rows, ``batch`` at a time from a server-side cursor, read only as they are asked for."""
    decimals = _Decimals()
    result = db.session.execute(statement.execution_options(yield_per=batch, stream_results=True))
    try:
        for rows in result.partitions():
            yield [_csv_row(row, decimals) for row in rows]
    finally:
        result.close()


def start_overdue_export(
    filters: OverdueFilters,
    *,
    viewer: Viewer,
    now: datetime,
    ip_address: str | None,
    batch: int | None = None,
) -> Iterator[str]:
    """Audit ``report.overdue_exported`` (flushes) and return the CSV of the open cases ``viewer``
    may open as a lazy stream of chunks.

    The caller commits the audit event before streaming; the rows are read only as the stream is
    consumed, ``batch`` rows (default EXPORT_BATCH) per chunk from a server-side cursor.
    """
    details = {
        key: value
        for key, value in vars(filters).items()
        if value is not None and value is not False
    }
    audit(
        "report.overdue_exported",
        now=now,
        actor_id=viewer.id,
        object_type="report",
        object_id="overdue",
        details=details,
        ip_address=ip_address,
    )
    statement = _rows_statement(filters, cases_visible_to(viewer))  # the scope, read now
    return stream_csv(csv_header(), _batches(statement, batch or EXPORT_BATCH))
