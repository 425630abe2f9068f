"""The daily accrual of late charges: set-based, idempotent, capped per loan, cheap by design.

Called by the collections run (``portal.collections.run.charges``) for its as-of date, before
positions are built, so that positions, cases and notices carry the day's late charges.

**What a run charges.** Per product, with the policy in force, ONE ``INSERT ... SELECT`` adds
``late_charge`` rows from ONE pass over the overdue installments (unpaid, past due plus the
grace days, of active loans):

- a **late fee** for each such installment that has none yet (``late_fee_on`` empty): flat, or
  basis points of the installment's principal + interest + fee due; a row per installment,
  posted to it, once (a partial unique index guards it);
- **penalty interest**: ONE row per loan, for the days since the product's last accrual (its
  ``AccrualMark``; or since an installment's grace ended, if later): the sum over the loan's
  overdue installments of days x floor(overdue principal x bps per day / 10,000), posted to the
  loan's **oldest** overdue installment (the waterfall pays oldest first anyway). Nothing is
  written for a loan whose overdue principal asks for nothing (interest or fee left only).

**Reruns and skipped days** are the run mark's business: a product's mark is the date it was
last accrued through, moved by each run (under a row lock). A run for that date or an earlier
one finds nothing to do and reads no installment; a run after skipped days charges them all.
So nothing per installment has to be rewritten every day to remember what was charged.

**The cap**: a loan's total cost (sum over its installments of interest + fee + late charge due,
i.e. after waivers) never exceeds floor(principal x cap bps x days since disbursement /
3,650,000). The loan's headroom is shared among that run's rows oldest installment first (a
fee before the penalty on the same installment) with a running window sum; what the cap cuts is
kept as ``uncapped_minor`` beside ``amount_minor``. Reading every installment of every overdue
loan for its cost would cost as much as the rest of the run, so each row also keeps the loan's
headroom after the run (``room_after_minor``), and the next run starts from it: the cost grows
only by accruals (waivers and rebates lower it), so that headroom plus the cap's growth since is
a lower bound of today's; where it covers what the loan asks, all is granted (as the exact
figure would grant it), and only the other loans (new ones, loans at or near their cap, a
changed cap) have their cost summed, each by an index lookup.

Then ONE ``UPDATE ... FROM`` posts this run's rows that carry money (a penalty cut to zero
posts nothing): each installment's ``late_charge_due`` grows by them, and ``late_fee_on``
records a fee. Writes per day are thus one journal row and one installment update per overdue
loan (plus the day's new late fees), not one per overdue installment and kind.

Why: at 100,000 loans (~35,000 overdue with ~70,000 overdue installments), a row and an update
per installment per day cost more than the rest of the run (bench/collections_run.py).

Nothing accrues on an installment whose principal, interest and fee are paid, nor on a loan that
is not active (and a loan made active again is charged from then on, not for its inactive days).
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
from portal.loans.charges.models import AccrualMark, ChargeKind, LateCharge, LateFeeKind
from portal.loans.charges.services import Policy, current_policies
from portal.loans.models import Installment, Loan, LoanProduct, LoanStatus
from portal.sqlutil import days_since, plan_for_bulk, plan_for_lookups

BPS = 10_000
DAYS_IN_YEAR = 365
# The oldest overdue installment of a loan as ONE aggregate: min(sequence x KEY + id), whose
# remainder is the id (ids and sequences stay far below 2^31).
KEY = 2**32


def accrue_late_charges(as_of: date) -> int:
    """Accrue and post every product's late charges for ``as_of``; the rows added.

    Idempotent per date (a rerun, or a run for an earlier date, adds nothing and changes
    nothing). Flushes; the caller commits (the rows, their posting and the moved run mark must
    commit together: the posting finds this run's rows as those above the highest id before it).
    """
    plan_for_bulk(whole_table_join=True)
    before = _last_id()
    for policy in current_policies().values():
        if not policy.charges_anything:
            continue
        mark = _claim(policy.product, as_of)
        if mark is None:
            continue
        first = _last_id()
        _accrue(as_of, mark, policy)
        last = _last_id()
        mark.accrued_through = as_of
        mark.first_id, mark.last_id = (first + 1, last) if last > first else (None, None)
        mark.cap_annual_bps = policy.cap_annual_bps
        db.session.add(mark)
    db.session.flush()
    # Counted by id, not rowcount: SQLite reports none for an INSERT written after a WITH.
    added = db.session.scalar(select(func.count()).where(LateCharge.id > before)) or 0
    if added:
        plan_for_lookups()  # a few rows per overdue loan, by primary key
        _post(as_of, before)
    return added


def _last_id() -> int:
    return db.session.scalar(select(func.max(LateCharge.id))) or 0


def _claim(product: LoanProduct, as_of: date) -> AccrualMark | None:
    """The product's run mark, locked (FOR UPDATE) until the caller commits so that two runs
    never charge the same days; None when ``as_of`` is at or before it (nothing to accrue).
    A product accrued for the first time gets a new mark (``accrued_through`` None: the run
    adds it once moved)."""
    mark = db.session.scalar(
        select(AccrualMark).where(AccrualMark.product == product).with_for_update()
    )
    if mark is None:
        return AccrualMark(product=product)  # added once moved (its date cannot be empty)
    return None if as_of <= mark.accrued_through else mark


def _least(a, b):
    return case((a < b, a), else_=b)


def _overdue(as_of: date, since: date | None, policy: Policy):
    """ONE pass over the product's overdue installments (a CTE read by the fee and penalty
    rows): each one's fee, penalty days since the mark (or since its grace ended, if later) and
    penalty per day."""
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
    days: ColumnElement[int] = days_since(as_of, i.due_date) - policy.grace_days
    if since is not None:
        days = _least(literal((as_of - since).days, Integer), days)
    return (
        select(
            i.id.label("installment_id"),
            i.loan_id.label("loan_id"),
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


def _candidates(as_of: date, since: date | None, policy: Policy) -> list[Any]:
    """The accruals the policy asks for, uncapped: (installment, loan, sequence, kind, days,
    amount): a late fee per installment charged none yet, one penalty row per loan on its
    oldest overdue installment."""
    o = _overdue(as_of, since, policy).c
    selects: list[Any] = []
    if policy.late_fee_kind is not LateFeeKind.NONE:
        selects.append(
            select(
                o.installment_id,
                o.loan_id,
                o.sequence,
                literal(ChargeKind.LATE_FEE.value).label("kind"),
                literal(1, Integer).label("days"),
                o.fee.label("uncapped"),
            ).where(o.late_fee_on.is_(None))
        )
    if policy.penalty_bps_per_day > 0:
        key = literal(KEY, BigInteger)
        oldest = func.min(o.sequence * key + o.installment_id)
        uncapped = func.sum(o.days * o.per_day)
        selects.append(
            select(
                (oldest % key).label("installment_id"),
                o.loan_id,
                func.min(o.sequence).label("sequence"),
                literal(ChargeKind.PENALTY.value).label("kind"),
                func.max(o.days).label("days"),
                uncapped.label("uncapped"),
            )
            .where(o.days >= 1)
            .group_by(o.loan_id)
            .having(uncapped > 0)
        )
    return selects


def _cap(policy: Policy, day: date) -> ColumnElement[int]:
    """The loan's cost cap on ``day`` (an expression over ``loan``)."""
    return (
        Loan.principal_minor
        * policy.cap_annual_bps
        * days_since(day, Loan.disbursed_on)
        // (BPS * DAYS_IN_YEAR)
    )


def _room(as_of: date, mark: AccrualMark, policy: Policy, candidate) -> Any:
    """Each candidate loan's headroom before this run (cap less cost) and what it asks.

    The cost (every installment of the loan) is read only where it matters. A loan's cost
    grows only by accruals (waivers and rebates lower it), so its headroom is at least the one
    the last run left it (``room_after_minor`` of that run's rows) plus what the cap grew since:
    when that covers what the loan asks, everything is granted, as the exact figure would
    grant it; otherwise (a new loan, a loan near its cap, a changed cap) the cost is summed for
    that loan alone (a correlated subquery over its installments).
    """
    c = candidate.c
    asked = (
        select(c.loan_id.label("loan_id"), func.sum(c.uncapped).label("asked"))
        .group_by(c.loan_id)
        .subquery("asked")
    )
    known: ColumnElement[Any] = literal(None, BigInteger)
    previous = None
    if (
        mark.accrued_through is not None
        and mark.first_id is not None
        and mark.cap_annual_bps == policy.cap_annual_bps
    ):
        lc = LateCharge
        previous = (
            select(lc.loan_id.label("loan_id"), func.min(lc.room_after_minor).label("room"))
            .where(lc.id.between(mark.first_id, mark.last_id))
            .group_by(lc.loan_id)
            .subquery("previous")
        )
        known = previous.c.room + _cap(policy, as_of) - _cap(policy, mark.accrued_through)
    i = Installment
    cost = (
        select(func.sum(i.interest_due + i.fee_due + i.late_charge_due))
        .where(i.loan_id == asked.c.loan_id)
        .scalar_subquery()
    )
    room = case((known >= asked.c.asked, known), else_=_cap(policy, as_of) - cost)
    query = select(asked.c.loan_id, asked.c.asked, room.label("room")).join(
        Loan, Loan.id == asked.c.loan_id
    )
    if previous is not None:
        query = query.outerjoin(previous, previous.c.loan_id == asked.c.loan_id)
    # Materialized: the room is used in several expressions below, and PostgreSQL would
    # otherwise copy its subquery (and its per-loan cost reads) into each of them.
    return query.cte("room").prefix_with("MATERIALIZED", dialect="postgresql")


def _accrue(as_of: date, mark: AccrualMark, policy: Policy) -> None:
    selects = _candidates(as_of, mark.accrued_through, policy)
    # Referenced twice (the rows, and their loans for the room): PostgreSQL computes it once.
    source: Any = selects[0] if len(selects) == 1 else union_all(*selects)
    candidate = source.cte("candidate")
    c = candidate.c
    room = _room(as_of, mark, policy, candidate)
    before = (
        func.sum(c.uncapped).over(
            partition_by=c.loan_id, order_by=(c.sequence, c.kind), rows=(None, 0)
        )
        - c.uncapped
    )
    granted_in_all = case(
        (room.c.room <= 0, 0),
        (room.c.room >= room.c.asked, room.c.asked),
        else_=room.c.room,
    )
    shared = (
        select(
            c.installment_id,
            c.loan_id,
            c.kind,
            c.days,
            c.uncapped,
            (room.c.room - before).label("room"),
            (room.c.room - granted_in_all).label("room_after"),
        )
        .join(room, room.c.loan_id == c.loan_id)
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
                "room_after_minor",
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
                shared.c.room_after,
                literal(policy.version, Integer),
            ),
        )
    )


def _post(as_of: date, before: int) -> None:
    """Add this run's rows (ids above ``before``) to their installments' ``late_charge_due``
    and mark charged fees, in ONE ``UPDATE ... FROM``; a penalty the cap cut to nothing
    changes no installment."""
    lc, i = LateCharge, Installment
    is_fee = case((lc.kind == ChargeKind.LATE_FEE, 1), else_=0)
    added = (
        select(
            lc.installment_id.label("installment_id"),
            func.sum(lc.amount_minor).label("amount"),
            func.max(is_fee).label("fee"),
        )
        .where(lc.id > before, or_(lc.amount_minor > 0, lc.kind == ChargeKind.LATE_FEE))
        .group_by(lc.installment_id)
        .subquery("added")
    )
    db.session.execute(
        update(i)
        .where(i.id == added.c.installment_id)
        .values(
            late_charge_due=i.late_charge_due + added.c.amount,
            late_fee_on=case((added.c.fee == 1, literal(as_of, Date)), else_=i.late_fee_on),
        )
        .execution_options(synchronize_session=False)
    )
