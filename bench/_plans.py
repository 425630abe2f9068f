"""Repayment plans in bench/collections_run.py's portfolio, generated set-based.

Not a benchmark itself: the collections benchmark calls ``generate_plans`` after its loans,
installments and payments exist, and ``_plan_days.pay_plans_between_days`` between its first
and daily runs. Every statement is an INSERT ... SELECT or UPDATE over the generated tables;
only the small calendar of plan start dates (``_plan_calendar.py``) is built in Python.

``PLAN_PER_MILLE`` (3%; the benchmark's ``--plans-per-mille``) of the loans overdue on AS_OF
are in an ACTIVE plan, as ``portal.plans.activation.restructure`` leaves them: every original
installment with something unpaid is marked ``rescheduled_into_plan_id`` with its dues lowered
to what was paid on it, and the unpaid principal, interest and fee are spread over 3, 6 or 12
monthly plan installments (new installment rows with ``plan_id``; each component split evenly,
the remainder on the last). No down payment, no waiver, no ``plan_reschedule`` trail (the run
never reads it). Plan start dates come from ``_plan_calendar``, not from the loan's history.

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

from typing import Any

from _plan_calendar import (
    KEPT,
    PLAN_TERMS,
    PROFILES,
    bench_plan_anchor,
    bench_plan_anchor_count,
    bench_plan_due,
    fill_plan_calendar,
)
from _plan_calendar import helpers as calendar_helpers
from _portfolio import bench_due_count, bench_loan, hashed, on_postgres
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
from portal.extensions import db
from portal.loans.models import Installment, Payment
from portal.plans.models import PlanStatus, RepaymentPlan
from portal.plans.terms import PLAN_TERMS_VERSION

PLAN_PER_MILLE = 30  # of the loans overdue on AS_OF: 3% are in a plan
BUCKET_BY_STAGE = {1: "1-30", 2: "1-30", 3: "31-60"}  # what an in-plan case was before

helpers = MetaData()
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


def _profile_of(n):
    """The plan's profile from a spread of the loan number over 0..99."""
    spread = hashed(n, 7_919_003, 100)
    whens, low = [], 0
    for profile, share in PROFILES.items():
        whens.append((spread < low + share, profile))
        low += share
    return case(*whens, else_=KEPT)


def choose_plans(per_mille: int) -> None:
    """``per_mille`` of the loans overdue on AS_OF, each with a profile, terms and anchor."""
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
        .where(b.c.paid_through < due.c.n_due, hashed(b.c.n, 86_028_121, 1000) < per_mille)
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


def generate_plans(step, per_mille: int = PLAN_PER_MILLE) -> dict[str, Any]:
    """The plans, their installments, payments and cases; the loan tables of ``_portfolio``
    must still exist. Returns the plans by profile. ``step(label, work)`` runs and commits."""
    helpers.create_all(db.engine)
    calendar_helpers.create_all(db.engine)
    step("plan calendar", fill_plan_calendar)
    step("plans chosen", lambda: choose_plans(per_mille))
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
