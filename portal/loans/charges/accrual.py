"""The daily accrual of late charges: set-based, idempotent, capped per loan.

Called by the collections run (``portal.collections.run.charges``) for its as-of date, before
positions are built, so that positions, cases and notices carry the day's late charges.

Per product, with the policy in force, ONE ``INSERT ... SELECT`` adds ``late_charge`` rows:

- a **late fee** for each unpaid installment past its due date plus the grace days that has
  none yet (``late_fee_on`` empty): flat, or basis points of the installment's principal +
  interest + fee due;
- **penalty interest** for each such installment, for the days since ``penalty_through`` (or
  since the grace period ended): days x floor(overdue principal x bps per day / 10,000). Days
  skipped between runs are accrued when the run resumes; a rerun of a date finds 0 days.

**The cap**: a loan's total cost (sum over its installments of interest + fee + late charge due,
i.e. after waivers) never exceeds floor(principal x cap bps x days since disbursement /
3,650,000). The loan's headroom is shared among that run's accruals oldest installment first
(late fee before penalty) with a running window sum; what the cap cuts is kept as
``uncapped_minor`` beside ``amount_minor``.

Then ONE ``UPDATE ... FROM`` posts this run's rows: each installment's ``late_charge_due``
grows by them, and its marks (``late_fee_on``, ``penalty_through``) record what is charged, so
the next run starts from there without reading the ledger back.

Nothing accrues on an installment whose principal, interest and fee are paid, nor on a loan that
is not active.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Integer,
    case,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)

from portal.extensions import db
from portal.loans.charges.models import ChargeKind, LateCharge, LateFeeKind
from portal.loans.charges.services import Policy, current_policies
from portal.loans.models import Installment, Loan, LoanStatus
from portal.sqlutil import days_since, plan_for_bulk

BPS = 10_000
DAYS_IN_YEAR = 365
NO_EARLIER_ROW = 1_000_000  # days: "no penalty row yet" loses to the days since grace ended


def accrue_late_charges(as_of: date) -> int:
    """Accrue and post every product's late charges for ``as_of``; the rows added.

    Idempotent per date (a rerun adds nothing and changes nothing). Flushes; the caller commits
    (the rows and their posting must commit together: the posting finds this run's rows as
    those above the highest id before it).
    """
    plan_for_bulk(whole_table_join=True)
    before = db.session.scalar(select(func.max(LateCharge.id))) or 0
    for policy in current_policies().values():
        if policy.charges_anything:
            _accrue(as_of, policy)
    # Counted by id, not rowcount: SQLite reports none for an INSERT written after a WITH.
    added = db.session.scalar(select(func.count()).where(LateCharge.id > before)) or 0
    if added:
        _post(as_of, before)
    return added


def _least(a, b):
    return case((a < b, a), else_=b)


def _candidates(as_of: date, policy: Policy) -> list[Any]:
    """The accruals the policy asks for, uncapped: (installment, loan, due date, sequence,
    kind, days, amount), late fees and penalties in one UNION ALL over ONE pass of installment
    (a CTE read twice). The installment's accrual marks say what was already charged, so no
    accrued row is read back."""
    i = Installment
    unpaid = or_(
        i.principal_paid < i.principal_due,
        i.interest_paid < i.interest_due,
        i.fee_paid < i.fee_due,
    )
    fee: ColumnElement[int]
    if policy.late_fee_kind is LateFeeKind.FLAT:
        fee = literal(policy.late_fee_flat_minor, BigInteger)
    else:
        fee = (i.principal_due + i.interest_due + i.fee_due) * policy.late_fee_bps // BPS
    days = _least(
        func.coalesce(days_since(as_of, i.penalty_through), NO_EARLIER_ROW),
        days_since(as_of, i.due_date) - policy.grace_days,
    )
    overdue = (
        select(
            i.id.label("installment_id"),
            i.loan_id.label("loan_id"),
            i.due_date.label("due_date"),
            i.sequence.label("sequence"),
            i.late_fee_on.label("late_fee_on"),
            fee.label("fee"),
            days.label("days"),
            ((i.principal_due - i.principal_paid) * policy.penalty_bps_per_day // BPS).label(
                "per_day"
            ),
        )
        .where(
            i.due_date < as_of - timedelta(days=policy.grace_days),
            unpaid,
            exists().where(
                Loan.id == i.loan_id,
                Loan.product == policy.product,
                Loan.status == LoanStatus.ACTIVE,
            ),
        )
        .cte("overdue")
    )
    o = overdue.c
    selects: list[Any] = []
    if policy.late_fee_kind is not LateFeeKind.NONE:
        selects.append(
            select(
                o.installment_id,
                o.loan_id,
                o.due_date,
                o.sequence,
                literal(ChargeKind.LATE_FEE.value).label("kind"),
                literal(1, Integer).label("days"),
                o.fee.label("uncapped"),
            ).where(o.late_fee_on.is_(None))
        )
    if policy.penalty_bps_per_day > 0:
        selects.append(
            select(
                o.installment_id,
                o.loan_id,
                o.due_date,
                o.sequence,
                literal(ChargeKind.PENALTY.value).label("kind"),
                o.days,
                (o.days * o.per_day).label("uncapped"),
            ).where(o.days >= 1)
        )
    return selects


def _accrue(as_of: date, policy: Policy) -> None:
    selects = _candidates(as_of, policy)
    # Referenced twice (the rows, and their loans for the cost): PostgreSQL computes it once.
    source: Any = selects[0] if len(selects) == 1 else union_all(*selects)
    candidate = source.cte("candidate")
    i = Installment
    cost = (
        select(
            i.loan_id.label("loan_id"),
            func.sum(i.interest_due + i.fee_due + i.late_charge_due).label("cost"),
        )
        .where(i.loan_id.in_(select(candidate.c.loan_id)))
        .group_by(i.loan_id)
        .subquery("cost")
    )
    cap = (
        Loan.principal_minor
        * policy.cap_annual_bps
        * days_since(as_of, Loan.disbursed_on)
        // (BPS * DAYS_IN_YEAR)
    )
    before = (
        func.sum(candidate.c.uncapped).over(
            partition_by=candidate.c.loan_id,
            order_by=(candidate.c.due_date, candidate.c.sequence, candidate.c.kind),
            rows=(None, 0),
        )
        - candidate.c.uncapped
    )
    shared = (
        select(
            candidate.c.installment_id,
            candidate.c.loan_id,
            candidate.c.kind,
            candidate.c.days,
            candidate.c.uncapped,
            (cap - cost.c.cost - before).label("room"),
        )
        .join(cost, cost.c.loan_id == candidate.c.loan_id)
        .join(Loan, Loan.id == candidate.c.loan_id)
        .subquery("shared")
    )
    granted = case(
        (shared.c.room <= 0, 0),
        (shared.c.room >= shared.c.uncapped, shared.c.uncapped),
        else_=shared.c.room,
    )
    db.session.execute(
        insert(LateCharge).from_select(
            [
                "installment_id",
                "loan_id",
                "kind",
                "accrued_on",
                "days",
                "uncapped_minor",
                "amount_minor",
                "policy_version",
            ],
            select(
                shared.c.installment_id,
                shared.c.loan_id,
                shared.c.kind,
                literal(as_of, Date),
                shared.c.days,
                shared.c.uncapped,
                granted,
                literal(policy.version, Integer),
            ),
        )
    )


def _post(as_of: date, before: int) -> None:
    """Add this run's rows (ids above ``before``) to their installments' ``late_charge_due``
    and set the accrual marks, in ONE ``UPDATE ... FROM``."""
    lc, i = LateCharge, Installment
    is_fee = case((lc.kind == ChargeKind.LATE_FEE, 1), else_=0)
    added = (
        select(
            lc.installment_id.label("installment_id"),
            func.sum(lc.amount_minor).label("amount"),
            func.max(is_fee).label("fee"),
            func.min(is_fee).label("only_fee"),
        )
        .where(lc.id > before)
        .group_by(lc.installment_id)
        .subquery("added")
    )
    db.session.execute(
        update(i)
        .where(i.id == added.c.installment_id)
        .values(
            late_charge_due=i.late_charge_due + added.c.amount,
            late_fee_on=case((added.c.fee == 1, literal(as_of, Date)), else_=i.late_fee_on),
            penalty_through=case(
                (added.c.only_fee == 0, literal(as_of, Date)), else_=i.penalty_through
            ),
        )
        .execution_options(synchronize_session=False)
    )
