"""Repayment plans in bench/collections_run.py's portfolio, generated set-based.

Not a benchmark itself: the collections benchmark calls ``generate_plans`` after its loans,
installments and payments exist, and ``pay_plans_between_days`` between its first and daily
runs. Every statement is an INSERT ... SELECT or UPDATE over the generated tables; only the
small calendar of plan start dates is built in Python.

``PLAN_PER_MILLE`` of the loans overdue on AS_OF are in an ACTIVE plan, as ``portal.plans
.activation.restructure`` leaves them: every original installment with something unpaid is
marked ``rescheduled_into_plan_id`` with its dues lowered to what was paid on it, and the
unpaid principal, interest and fee are spread over 3, 6 or 12 monthly plan installments (new
installment rows with ``plan_id``; each component split evenly, the remainder on the last).
No down payment, no waiver, no ``plan_reschedule`` trail (the run never reads it). Plan start
dates are drawn from the calendar below, not from the loan's own history.

Each plan's loan has its open case "in plan", opened before the plan started (no figures, no
oldest unpaid due date, stage 1-3), with its "opened" and "plan" transitions: the first run is
the first over the portfolio, but the cases of loans in plans came with their plans.

What each plan's installments look like (``PROFILES``, shares of the plans in percent):
- ``kept``: every plan installment due before AS_OF paid, the rest to come;
- ``late_paid``: one due 1-4 days before AS_OF unpaid (the first run sees it overdue), paid
  between the runs (with the case's figures cleared, as the payment's refresh does): in plan
  with nothing overdue on the daily day, so its case must stay open;
- ``late_unpaid``: one due 1-4 days before AS_OF and still unpaid on the daily day: overdue but
  within ``break_grace_days`` (5), so its case keeps its stage;
- ``breaks_first`` / ``breaks_daily``: one due 6 / 5 days before AS_OF unpaid: the first / daily
  run breaks the plan (a plan installment unpaid more than 5 days);
- ``completes_daily``: all paid but the last (due within a month), which is paid between the
  runs: the daily run completes the plan and cures its case.
Paid plan installments have one payment each, as the generated originals do.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from _harness import progress
from _portfolio import AS_OF, NOW, bench_due_count, bench_loan, hashed, on_postgres
from sqlalchemy import (
    JSON,
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
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by

from portal.collections.models import CaseStatus, CaseTransition, CollectionCase
from portal.dbtypes import UTCDateTime
from portal.extensions import db
from portal.loans.models import Installment, Payment
from portal.loans.schedule import add_months
from portal.messaging.default_templates import LOCALES, channels_for, default_for
from portal.messaging.purposes import PURPOSES
from portal.messaging.templates import InvalidTemplate, save_version
from portal.plans.models import PlanStatus, RepaymentPlan
from portal.plans.queries import in_active_plan
from portal.plans.terms import PLAN_TERMS_VERSION

PLAN_PER_MILLE = 30  # of the loans overdue on AS_OF: 3% are in a plan
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
BUCKET_BY_STAGE = {1: "1-30", 2: "1-30", 3: "31-60"}  # what an in-plan case was before

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
# Each plan: its loan (also its id), anchor, original terms and what it took over.
bench_plan = Table(
    "bench_plan",
    helpers,
    Column("n", Integer, primary_key=True),
    Column("borrower", Integer, nullable=False),
    Column("profile", String(20), nullable=False),
    Column("anchor_id", Integer, nullable=False),
    Column("terms", Integer, nullable=False),
    Column("loan_terms", Integer, nullable=False),
    Column("principal", BigInteger, nullable=False, default=0),
    Column("interest", BigInteger, nullable=False, default=0),
    Column("fee", BigInteger, nullable=False, default=0),
)
# The plan installments paid between the runs (kept until then).
bench_plan_paid_later = Table(
    "bench_plan_paid_later",
    helpers,
    Column("installment_id", Integer, primary_key=True),
    Column("loan_id", Integer, nullable=False),
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


def _profile_of(n):
    """The plan's profile from a spread of the loan number over 0..99."""
    spread = hashed(n, 7_919_003, 100)
    whens, low = [], 0
    for profile, share in PROFILES.items():
        whens.append((spread < low + share, profile))
        low += share
    return case(*whens, else_=KEPT)


def choose_plans() -> None:
    """PLAN_PER_MILLE of the loans overdue on AS_OF, each with a profile, terms and anchor."""
    b, due = bench_loan, bench_due_count
    chosen = (
        select(
            b.c.n,
            b.c.borrower,
            b.c.terms.label("loan_terms"),
            _profile_of(b.c.n).label("profile"),
            case(*((hashed(b.c.n, 15_485_863, 3) == k, t) for k, t in enumerate(PLAN_TERMS))).label(
                "terms"
            ),
            hashed(b.c.n, 32_452_843, 1_000_000).label("spread"),
        )
        .join(due, and_(due.c.d == b.c.d, due.c.terms == b.c.terms))
        .where(b.c.paid_through < due.c.n_due, hashed(b.c.n, 86_028_121, 1000) < PLAN_PER_MILLE)
        .subquery()
    )
    a, count = bench_plan_anchor, bench_plan_anchor_count
    db.session.execute(
        insert(bench_plan).from_select(
            ["n", "borrower", "profile", "anchor_id", "terms", "loan_terms"],
            select(
                chosen.c.n,
                chosen.c.borrower,
                chosen.c.profile,
                a.c.id,
                chosen.c.terms,
                chosen.c.loan_terms,
            )
            .join(
                count,
                and_(count.c.profile == chosen.c.profile, count.c.terms == chosen.c.terms),
            )
            .join(
                a,
                and_(
                    a.c.profile == chosen.c.profile,
                    a.c.terms == chosen.c.terms,
                    a.c.pick == chosen.c.spread % count.c.anchors,
                ),
            ),
        )
    )
    i = Installment
    owed = {
        "principal": i.principal_due - i.principal_paid,
        "interest": i.interest_due - i.interest_paid,
        "fee": i.fee_due - i.fee_paid,
    }
    db.session.execute(
        update(bench_plan).values(
            {
                name: select(func.sum(amount)).where(i.loan_id == bench_plan.c.n).scalar_subquery()
                for name, amount in owed.items()
            }
        )
    )


def fill_plans() -> None:
    """The ACTIVE plans: no down payment, no waiver; the schedule JSON is filled afterwards."""
    bp, a = bench_plan, bench_plan_anchor
    balance = bp.c.principal + bp.c.interest + bp.c.fee
    db.session.execute(
        insert(RepaymentPlan.__table__).from_select(
            ["id", "loan_id", "borrower_id", "status", "policy_version", "installment_count"]
            + ["frequency", "currency", "balance_minor", "waived_late_charge_minor"]
            + ["waived_interest_minor", "down_payment_minor", "financed_minor", "start_on"]
            + ["schedule", "needs_approval", "terms_version", "consented_by", "consented_at"]
            + ["activated_at", "created_at"],
            select(
                bp.c.n,
                bp.c.n,
                bp.c.borrower,
                literal(PlanStatus.ACTIVE.value),
                literal(0),
                bp.c.terms,
                literal("monthly"),
                literal("CNY"),
                balance,
                literal(0),
                literal(0),
                literal(0),
                balance,
                a.c.start_on,
                literal([], JSON),
                literal(False),
                literal(PLAN_TERMS_VERSION),
                bp.c.borrower,
                a.c.started_at,
                a.c.started_at,
                a.c.started_at,
            ).join(a, a.c.id == bp.c.anchor_id),
        )
    )
    if on_postgres():
        db.session.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('repayment_plan', 'id'), "
                "coalesce(max(id), 1)) FROM repayment_plan"
            )
        )


def _plan_share(total, terms, seq):
    """Installment ``seq`` of ``terms``' share of ``total``: even, the remainder on the last."""
    return total // terms + case((seq == terms, total - terms * (total // terms)), else_=0)


def fill_plan_installments() -> None:
    """The plan installments (new rows after the loan's originals), paid where the profile says."""
    bp, d = bench_plan, bench_plan_due
    paid = d.c.paid_at.is_not(None)
    parts = [_plan_share(bp.c[name], bp.c.terms, d.c.seq) for name in ("principal", "interest")]
    parts.append(_plan_share(bp.c.fee, bp.c.terms, d.c.seq))
    db.session.execute(
        insert(Installment.__table__).from_select(
            ["loan_id", "sequence", "due_date", "principal_due", "interest_due", "fee_due"]
            + ["principal_paid", "interest_paid", "fee_paid", "plan_id"],
            select(
                bp.c.n,
                bp.c.loan_terms + d.c.seq,
                d.c.due_date,
                *parts,
                *(case((paid, part), else_=0) for part in parts),
                bp.c.n,
            ).join(d, d.c.anchor_id == bp.c.anchor_id),
        )
    )


def fill_plan_payments() -> None:
    """One payment per plan installment paid before AS_OF, on its due date."""
    bp, d, i = bench_plan, bench_plan_due, Installment
    db.session.execute(
        insert(Payment.__table__).from_select(
            ["loan_id", "amount_minor", "currency", "method", "received_at", "created_at"],
            select(
                i.loan_id,
                i.principal_due + i.interest_due + i.fee_due,
                literal("CNY"),
                literal("alipay"),
                d.c.paid_at,
                d.c.paid_at,
            )
            .join(bp, bp.c.n == i.plan_id)
            .join(d, and_(d.c.anchor_id == bp.c.anchor_id, d.c.seq == i.sequence - bp.c.loan_terms))
            .where(d.c.paid_at.is_not(None)),
        )
    )


def reschedule_originals() -> None:
    """The originals the plan took over: dues lowered to what was paid, marked rescheduled."""
    i = Installment
    db.session.execute(
        update(i)
        .where(
            i.loan_id.in_(select(bench_plan.c.n)),
            i.plan_id.is_(None),
            or_(
                i.principal_paid < i.principal_due,
                i.interest_paid < i.interest_due,
                i.fee_paid < i.fee_due,
            ),
        )
        .values(
            principal_due=i.principal_paid,
            interest_due=i.interest_paid,
            fee_due=i.fee_paid,
            rescheduled_into_plan_id=i.loan_id,
        )
        .execution_options(synchronize_session=False)
    )


def fill_plan_schedules() -> None:
    """Each plan's ``schedule``: its installments' dates and amounts, as restructure leaves it."""
    i, p = Installment, RepaymentPlan
    amount = i.principal_due + i.interest_due + i.fee_due
    if on_postgres():
        entry = func.json_build_object("due_date", cast(i.due_date, String), "amount_minor", amount)
        schedule = func.json_agg(aggregate_order_by(entry, i.sequence))
    else:  # SQLite aggregates in the order its (index-ordered) input arrives
        entry = func.json_object("due_date", i.due_date, "amount_minor", amount)
        schedule = func.json_group_array(func.json(entry))
    db.session.execute(
        update(p)
        .values(schedule=select(schedule).where(i.plan_id == p.id).scalar_subquery())
        .execution_options(synchronize_session=False)
    )


def fill_plan_cases() -> None:
    """Each plan's loan has its open case "in plan", opened 10 days before the plan started,
    with its "opened" and "plan" transitions."""
    bp, a, c = bench_plan, bench_plan_anchor, CollectionCase
    stage = 1 + hashed(bp.c.n, 49_979_687, 3)
    db.session.execute(
        insert(c.__table__).from_select(
            ["loan_id", "borrower_id", "status", "opened_on", "stage", "stage_entered_on"]
            + ["bucket", "oldest_unpaid_due", "overdue_principal", "overdue_interest"]
            + ["overdue_fee", "overdue_late_charge", "currency", "strategy_version"]
            + ["legal_status", "created_at"],
            select(
                bp.c.n,
                bp.c.borrower,
                literal(CaseStatus.OPEN.value),
                a.c.case_opened_on,
                stage,
                a.c.case_opened_on,
                case(*((stage == s, bucket) for s, bucket in BUCKET_BY_STAGE.items())),
                literal(None, Date),
                literal(0),
                literal(0),
                literal(0),
                literal(0),
                literal("CNY"),
                literal(0),
                literal("none"),
                a.c.started_at,
            ).join(a, a.c.id == bp.c.anchor_id),
        )
    )
    p = RepaymentPlan
    for kind, from_stage, reason, run_on in (
        ("opened", literal(None, Integer), "overdue", c.opened_on),
        ("plan", c.stage, "plan started", p.start_on),
    ):
        db.session.execute(
            insert(CaseTransition).from_select(
                ["case_id", "kind", "from_stage", "to_stage", "reason", "run_on", "created_at"],
                select(
                    c.id, literal(kind), from_stage, c.stage, literal(reason), run_on, p.created_at
                ).join(p, p.loan_id == c.loan_id),
            )
        )


def keep_paid_later() -> None:
    bp, d, i = bench_plan, bench_plan_due, Installment
    db.session.execute(
        insert(bench_plan_paid_later).from_select(
            ["installment_id", "loan_id"],
            select(i.id, i.loan_id)
            .join(bp, bp.c.n == i.plan_id)
            .join(d, and_(d.c.anchor_id == bp.c.anchor_id, d.c.seq == i.sequence - bp.c.loan_terms))
            .where(d.c.paid_between == 1),
        )
    )


def generate_plans(step) -> dict[str, Any]:
    """The plans, their installments, payments and cases; the loan tables of ``_portfolio``
    must still exist. Returns the plans by profile. ``step(label, work)`` runs and commits."""
    helpers.create_all(db.engine)
    step("plan calendar", fill_plan_calendar)
    step("plans chosen", choose_plans)
    step("plans", fill_plans)
    step("plan installments", fill_plan_installments)
    step("plan payments", fill_plan_payments)
    step("originals rescheduled", reschedule_originals)
    step("plan schedules", fill_plan_schedules)
    step("in-plan cases", fill_plan_cases)
    step("plan installments paid between the runs", keep_paid_later)
    profiles = {
        profile: count
        for profile, count in db.session.execute(
            select(bench_plan.c.profile, func.count())
            .group_by(bench_plan.c.profile)
            .order_by(bench_plan.c.profile)
        ).all()
    }
    for table in (bench_plan, bench_plan_due, bench_plan_anchor_count, bench_plan_anchor):
        table.drop(db.session.connection())
    db.session.commit()
    return {"active": sum(profiles.values()), "by_profile": profiles}


def pay_plans_between_days() -> int:
    """The plan installments due to be paid between the runs are paid (late charges too), each
    by one payment; the cases of loans in a plan with nothing overdue any more lose their
    figures, as the payment's case refresh does (``refresh_loan_case``: "in plan"). The plan's
    completion is left to the daily run, as the other payments' cures are. Returns how many."""
    later, i = bench_plan_paid_later, Installment
    paid_later = i.id.in_(select(later.c.installment_id))
    when = literal(NOW + timedelta(hours=1), UTCDateTime)
    paid = db.session.execute(
        insert(Payment.__table__)
        .from_select(
            ["loan_id", "amount_minor", "currency", "method", "received_at", "created_at"],
            select(
                i.loan_id, i.total_due - i.total_paid, literal("CNY"), literal("alipay"), when, when
            ).where(paid_later),
        )
        .execution_options(preserve_rowcount=True)
    ).rowcount
    db.session.execute(
        update(i)
        .where(paid_later)
        .values(
            principal_paid=i.principal_due,
            interest_paid=i.interest_due,
            fee_paid=i.fee_due,
            late_charge_paid=i.late_charge_due,
        )
        .execution_options(synchronize_session=False)
    )
    c = CollectionCase
    nothing_overdue = (
        ~select(i.id)
        .where(
            i.loan_id == c.loan_id,
            i.due_date < AS_OF,
            or_(
                i.principal_paid < i.principal_due,
                i.interest_paid < i.interest_due,
                i.fee_paid < i.fee_due,
            ),
        )
        .exists()
    )
    db.session.execute(
        update(c)
        .where(
            c.status == CaseStatus.OPEN,
            c.loan_id.in_(select(later.c.loan_id)),
            in_active_plan(c.loan_id),
            nothing_overdue,
        )
        .values(
            oldest_unpaid_due=None,
            overdue_principal=0,
            overdue_interest=0,
            overdue_fee=0,
            overdue_late_charge=0,
        )
        .execution_options(synchronize_session=False)
    )
    later.drop(db.session.connection())
    return paid


def plans_by_status() -> dict[str, int]:
    p = RepaymentPlan
    rows = db.session.execute(select(p.status, func.count()).group_by(p.status)).all()
    return {str(status): number for status, number in sorted(rows)}


def install_notice_templates(now: datetime) -> int:
    """The default message templates, as a deployment has them (a broken plan's notice is
    rendered and queued by the run), each saved on its own: a default that fails validation
    is skipped (on the branch point the SMS texts of plan_broken and plan_proposed lack their
    required ``plan_summary``; the plan notices go by portal and email). Returns how many."""
    created = 0
    for purpose_code in PURPOSES:
        for locale in LOCALES:
            for channel in channels_for(purpose_code):
                subject, body_text = default_for(purpose_code, channel, locale)
                try:
                    with db.session.begin_nested():
                        save_version(
                            purpose_code=purpose_code,
                            channel=channel,
                            locale=locale,
                            subject=subject,
                            body_text=body_text,
                            body_html=None,
                            actor_id=None,
                            now=now,
                        )
                except InvalidTemplate as error:
                    progress(f"default template {purpose_code}/{channel}/{locale} skipped: {error}")
                    continue
                created += 1
    db.session.commit()
    return created
