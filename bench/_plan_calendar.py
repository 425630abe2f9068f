"""The calendar of plan start dates for bench/_plans.py: which start dates give a plan of a
profile (kept, late, broken on either run, completed on the daily day) its shape.

Built in Python (a few thousand rows: every start date up to a year back, for each profile and
plan length, whose due dates fit the profile); the plans pick from it in SQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from _portfolio import AS_OF, NOW
from sqlalchemy import Column, Date, Integer, MetaData, String, Table, insert

from portal.dbtypes import UTCDateTime
from portal.extensions import db
from portal.loans.schedule import add_months

PLAN_TERMS = (3, 6, 12)
# Profile name -> percent of plans (the rest are "kept"); see the module docstring.
PROFILES = {
    "breaks_first": 1,
    "breaks_daily": 1,
    "completes_daily": 1,
    "late_paid": 3,
    "late_unpaid": 3,
}
KEPT = "kept"

helpers = MetaData()
# Plan start dates (anchors) that give a profile its shape, numbered 0.. per (profile, terms).
bench_plan_anchor = Table(
    "bench_plan_anchor",
    helpers,
    Column("id", Integer, primary_key=True),
    Column("profile", String(20), nullable=False),
    Column("terms", Integer, nullable=False),
    Column("pick", Integer, nullable=False),
    Column("start_on", Date, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("case_opened_on", Date, nullable=False),
)
bench_plan_anchor_count = Table(
    "bench_plan_anchor_count",
    helpers,
    Column("profile", String(20), primary_key=True),
    Column("terms", Integer, primary_key=True),
    Column("anchors", Integer, nullable=False),
)
# Each anchor's plan installments: due date, when paid before AS_OF (NULL: unpaid), and
# whether it is paid between the first and the daily run.
bench_plan_due = Table(
    "bench_plan_due",
    helpers,
    Column("anchor_id", Integer, primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("due_date", Date, nullable=False),
    Column("paid_at", UTCDateTime),
    Column("paid_between", Integer, nullable=False),
)


def _late_seq(dues: list[date], days_late: range) -> int | None:
    """The plan installment due ``days_late`` days before AS_OF, if one is."""
    for seq, due in enumerate(dues, start=1):
        if (AS_OF - due).days in days_late:
            return seq
    return None


def _shape(profile: str, dues: list[date]) -> tuple[list[bool], int | None] | None:
    """(paid before AS_OF, by installment; the one paid between the runs) or None if these
    dues cannot have this profile."""
    late = {
        "breaks_first": range(6, 7),
        "breaks_daily": range(5, 6),
        "late_paid": range(1, 5),
        "late_unpaid": range(1, 5),
    }
    if profile in late:
        seq = _late_seq(dues, late[profile])
        if seq is None:
            return None
        return [n < seq for n in range(1, len(dues) + 1)], seq if profile == "late_paid" else None
    if profile == "completes_daily":
        if not AS_OF < dues[-1] <= AS_OF + timedelta(days=30) or dues[-2] >= AS_OF:
            return None
        return [True] * (len(dues) - 1) + [False], len(dues)
    if dues[-1] < AS_OF:  # kept: something left to pay
        return None
    return [due < AS_OF for due in dues], None


def _paid_at(due: date) -> datetime:
    """Noon in Shanghai on the due date, never after the day before AS_OF (as the originals)."""
    return min(datetime(due.year, due.month, due.day, 4, tzinfo=UTC), NOW - timedelta(days=1))


def fill_plan_calendar() -> None:
    anchors, counts, dues_rows = [], [], []
    for profile in [*PROFILES, KEPT]:
        for terms in PLAN_TERMS:
            pick = 0
            for days_ago in range(1, 31 * terms):
                start = AS_OF - timedelta(days=days_ago)
                dues = [add_months(start, seq) for seq in range(1, terms + 1)]
                shape = _shape(profile, dues)
                if shape is None:
                    continue
                paid, paid_between = shape
                anchor_id = len(anchors) + 1
                anchors.append(
                    {
                        "id": anchor_id,
                        "profile": profile,
                        "terms": terms,
                        "pick": pick,
                        "start_on": start,
                        "started_at": datetime(start.year, start.month, start.day, 4, tzinfo=UTC),
                        "case_opened_on": start - timedelta(days=10),
                    }
                )
                dues_rows += [
                    {
                        "anchor_id": anchor_id,
                        "seq": seq,
                        "due_date": due,
                        "paid_at": _paid_at(due) if paid[seq - 1] else None,
                        "paid_between": int(seq == paid_between),
                    }
                    for seq, due in enumerate(dues, start=1)
                ]
                pick += 1
            counts.append({"profile": profile, "terms": terms, "anchors": pick})
    db.session.execute(insert(bench_plan_anchor), anchors)
    db.session.execute(insert(bench_plan_anchor_count), counts)
    db.session.execute(insert(bench_plan_due), dues_rows)
