"""Step 7: give unassigned open cases to active collectors, levelling their workloads."""

from __future__ import annotations

from sqlalchemy import and_, case, func, select, update

from portal.collections.models import CaseStatus, CollectionCase
from portal.extensions import db
from portal.sqlutil import plan_for_bulk


def assign_cases() -> None:
    """Give unassigned open cases to active collectors so that their workloads level out.

    The least loaded collectors are filled up to the next one's load first, then the rest is
    spread evenly (water-filling). One UPDATE: each case's rank among the unassigned (by id)
    falls in one collector's range.
    """
    from portal.auth.models import Role, User

    c = CollectionCase
    plan_for_bulk()
    load = (
        select(func.count())
        .select_from(c)
        .where(c.assigned_to == User.id, c.status == CaseStatus.OPEN)
        .scalar_subquery()
    )
    collectors = db.session.execute(
        select(User.id, load.label("load"))
        .where(User.role == Role.COLLECTOR, User.is_active_account.is_(True))
        .order_by(load, User.id)
    ).all()
    unassigned = and_(c.status == CaseStatus.OPEN, c.assigned_to.is_(None))
    waiting = db.session.scalar(select(func.count()).select_from(c).where(unassigned)) or 0
    if not collectors or not waiting:
        return
    shares = level_shares([row.load for row in collectors], waiting)
    ranked = (
        select(c.id.label("id"), func.row_number().over(order_by=c.id).label("rank"))
        .where(unassigned)
        .subquery()
    )
    whens, upper = [], 0
    for row, share in zip(collectors, shares, strict=True):
        if share:
            upper += share
            whens.append((ranked.c.rank <= upper, row.id))
    db.session.execute(
        update(c)
        .where(c.id == ranked.c.id)
        .values(assigned_to=case(*whens))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def level_shares(loads: list[int], cases: int) -> list[int]:
    """How many of ``cases`` each collector gets (``loads`` ascending) to level the loads."""
    level, filled, remaining = loads[0], 1, cases
    while filled < len(loads) and (loads[filled] - level) * filled <= remaining:
        remaining -= (loads[filled] - level) * filled
        level, filled = loads[filled], filled + 1
    each, extra = divmod(remaining, filled)
    return [
        level - load + each + (1 if index < extra else 0) if index < filled else 0
        for index, load in enumerate(loads)
    ]
