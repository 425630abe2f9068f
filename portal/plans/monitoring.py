"""Watching plans, set-based: the daily run's step and the check after each payment.

- A plan whose installments are all paid is completed (its case is then cured by the run's
  cure step, or at once by the refresh after the payment).
- A plan with an installment unpaid more than the policy's grace days after its date is
  broken: what is unpaid is overdue again, so the case is back in collections (a "plan_broken"
  transition gives the reason) and the borrower is told. The policy's plans-a-year limit says
  whether they may enroll again.
- A plan proposed, or consented and waiting for its down payment, for ``WAITING_DAYS`` (counted
  from an admin's approval when it needed one) lapses: canceled, "expired". A plan awaiting
  approval waits for the admin.

Each is one UPDATE ... RETURNING over all plans (SQLite and PostgreSQL alike), whose rows give
the case transitions (one INSERT ... SELECT) and one audit event per plan ended.

Telling the borrower is a contact: the daily run queues the "plan_broken" notices with its other
contacts (``tell_broken_plans``, only on today's run), not inside this step, where one
rendered and guarded message per plan would cost more than the rest of the run
(bench/collections_run.py). A notice not sent yet (a run for an earlier date, contacts off) is
sent by the next run that contacts, within ``NOTICE_CATCH_UP_DAYS``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Select, String, and_, cast, exists, func, insert, literal, select, update

from portal.audit.services import record as audit
from portal.collections.models import CaseStatus, CaseTransition, CollectionCase
from portal.dbtypes import UTCDateTime
from portal.extensions import db
from portal.loans.models import Installment
from portal.messaging.models import Message
from portal.plans.models import PlanStatus, RepaymentPlan
from portal.plans.notices import tell_borrower
from portal.plans.services import current_plan_policy

WAITING_DAYS = 7
NOTICE_CATCH_UP_DAYS = 7
WAITING = (PlanStatus.PROPOSED, PlanStatus.PENDING)
BROKEN_REASON = "missed plan payment"
BROKEN_NOTICE = "plan_broken"
COMPLETED_REASON = "plan completed"


@dataclass
class PlanReport:
    completed: list[int] = field(default_factory=list)
    broken: list[int] = field(default_factory=list)
    expired: int = 0


def _unpaid(plan_id, *, due_before: date | None = None):
    i = Installment
    condition = and_(i.plan_id == plan_id, i.outstanding > 0)
    if due_before is not None:
        condition = and_(condition, i.due_date < due_before)
    return exists().where(condition)


def _end(where, status: PlanStatus, reason: str, as_of: date) -> list[tuple[int, int]]:
    """End the plans matching ``where``; their (plan id, loan id)."""
    p = RepaymentPlan
    rows = db.session.execute(
        update(p)
        .where(where)
        .values(status=status.value, ended_on=as_of, end_reason=reason)
        .returning(p.id, p.loan_id)
        .execution_options(synchronize_session=False)
    ).all()
    return [(row.id, row.loan_id) for row in rows]


def _transitions(loan_ids: list[int], kind: str, reason: str, as_of: date, now: datetime) -> None:
    """One ``kind`` transition on each of these loans' open cases (one INSERT ... SELECT)."""
    if not loan_ids:
        return
    c = CollectionCase
    db.session.execute(
        insert(CaseTransition).from_select(
            ["case_id", "kind", "from_stage", "to_stage", "reason", "run_on", "created_at"],
            select(
                c.id,
                literal(kind),
                c.stage,
                c.stage,
                literal(reason),
                literal(as_of),
                literal(now, UTCDateTime),
            ).where(c.loan_id.in_(loan_ids), c.status == CaseStatus.OPEN),
        )
    )


def settle_plans(
    as_of: date, now: datetime, *, loan_id: int | None = None, notify: bool = True
) -> PlanReport:
    """Complete, break and expire plans as of ``as_of`` (the portfolio's date), for every
    loan or only ``loan_id`` (after a payment: completion only, breaking is the run's).
    With ``notify``, the borrowers of the plans broken are told at once; the daily run passes
    False and tells them with its contacts (``tell_broken_plans``). Flushes; the caller
    commits."""
    p = RepaymentPlan
    report = PlanReport()
    scope = p.loan_id == loan_id if loan_id is not None else literal(True)
    active = and_(scope, p.status == PlanStatus.ACTIVE)
    completed = _end(and_(active, ~_unpaid(p.id)), PlanStatus.COMPLETED, "paid", as_of)
    report.completed = [plan_id for plan_id, _ in completed]
    _transitions([loan for _, loan in completed], "plan_completed", COMPLETED_REASON, as_of, now)
    broken: list[tuple[int, int]] = []
    if loan_id is None:
        cutoff = as_of - timedelta(days=current_plan_policy().break_grace_days)
        broken = _end(
            and_(active, _unpaid(p.id, due_before=cutoff)),
            PlanStatus.BROKEN,
            "missed_payment",
            as_of,
        )
        report.broken = [plan_id for plan_id, _ in broken]
        _transitions([loan for _, loan in broken], "plan_broken", BROKEN_REASON, as_of, now)
        report.expired = len(
            _end(
                and_(
                    p.status.in_([s.value for s in WAITING]),
                    func.coalesce(p.decided_at, p.created_at) < now - timedelta(days=WAITING_DAYS),
                ),
                PlanStatus.CANCELED,
                "expired",
                as_of,
            )
        )
    for status, reason, ended in (
        (PlanStatus.COMPLETED, "paid", completed),
        (PlanStatus.BROKEN, "missed_payment", broken),
    ):
        for plan_id, loan in ended:
            audit(
                f"plan.{status.value}",
                now=now,
                object_type="repayment_plan",
                object_id=plan_id,
                details={"loan": loan, "reason": reason},
            )
    if notify and report.broken:
        _tell(select(p).where(p.id.in_(report.broken)), now)
    db.session.flush()
    return report


def tell_broken_plans(as_of: date, now: datetime) -> int:
    """Tell the borrowers of the plans broken in the ``NOTICE_CATCH_UP_DAYS`` up to ``as_of``
    who have not been told yet (no "plan_broken" portal notice for the plan). Returns how
    many plans; flushes, the caller commits."""
    p = RepaymentPlan
    told = exists().where(
        Message.dedupe_key == literal(f"{BROKEN_NOTICE}:") + cast(p.id, String) + ":portal"
    )
    return _tell(
        select(p).where(
            p.status == PlanStatus.BROKEN,
            p.ended_on > as_of - timedelta(days=NOTICE_CATCH_UP_DAYS),
            p.ended_on <= as_of,
            ~told,
        ),
        now,
    )


def _tell(plans: Select, now: datetime) -> int:
    rows = db.session.scalars(
        plans.order_by(RepaymentPlan.id).execution_options(populate_existing=True)
    ).all()
    for plan in rows:
        tell_borrower(plan, BROKEN_NOTICE, now=now)  # once per plan and channel: a dedupe key
    return len(rows)
