"""Step 5: move open cases to the stage their days past due call for, with 'stage' transitions."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import String, and_, cast, insert, literal, select, update

from portal.collections.models import CaseStatus, CaseTransition, CollectionCase
from portal.collections.run.positions import stage_case
from portal.collections.strategy.services import Strategy
from portal.dbtypes import UTCDateTime
from portal.extensions import db
from portal.plans.queries import in_active_plan
from portal.sqlutil import days_since, plan_for_bulk, rows_affected


def move_stages(as_of: date, strategy: Strategy, now: datetime) -> int:
    """Move open cases to the stage their days past due call for (stage 4 only by approval).

    Runs after the refresh, so each case's oldest unpaid due date is today's: the stage is
    computed from the case row alone, without joining the positions again.
    """
    c = CollectionCase
    plan_for_bulk()
    dpd = days_since(as_of, c.oldest_unpaid_due)
    target = stage_case(dpd, strategy)
    # A case in a plan keeps its stage: nothing is overdue while the plan is kept.
    moving = and_(
        c.status == CaseStatus.OPEN, c.stage < 4, c.stage != target, ~in_active_plan(c.loan_id)
    )
    columns = ["case_id", "kind", "from_stage", "to_stage", "reason", "run_on", "created_at"]
    reason = cast(dpd, String) + literal(" dpd")
    db.session.execute(
        insert(CaseTransition).from_select(
            columns,
            select(
                c.id,
                literal("stage"),
                c.stage,
                target,
                reason,
                literal(as_of),
                literal(now, UTCDateTime),
            ).where(moving),
        )
    )
    moved = rows_affected(
        db.session.execute(
            update(c)
            .where(moving)
            .values(stage=target, stage_entered_on=as_of, strategy_version=strategy.version)
            .execution_options(synchronize_session=False)
        )
    )
    db.session.commit()
    return moved
