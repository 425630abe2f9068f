"""The run's contacts: each open case due a contact under its stage's cadence gets one, per channel.

Only cases due a contact today are loaded, a batch at a time; every message goes through the
outbox and so through the contact-rules guard.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select, update

from portal.auth.models import Channel
from portal.collections.models import CaseStatus, CollectionCase
from portal.collections.strategy.services import Strategy
from portal.extensions import db
from portal.messaging.models import MessageStatus
from portal.messaging.notices.services import send_overdue_notice
from portal.messaging.templates import RenderFailed, TemplateMissing

BATCH = 500
log = logging.getLogger(__name__)


def queue_stage_contacts(as_of: date, strategy: Strategy, *, now: datetime) -> tuple[int, int, int]:
    """Queue today's stage contacts; returns (queued, deferred, blocked). Commits per batch."""
    queued = deferred = blocked = 0
    for number in (1, 2, 3, 4):
        stage = strategy.stage(number)
        due_before = as_of - timedelta(days=stage["cadence_days"] - 1)
        channels = [Channel(name) for name in stage["channels"]]
        last_id = 0
        while True:
            batch = db.session.execute(
                select(CollectionCase.id, CollectionCase.loan_id)
                .where(
                    CollectionCase.status == CaseStatus.OPEN,
                    CollectionCase.stage == number,
                    CollectionCase.id > last_id,
                    or_(
                        CollectionCase.last_notice_on.is_(None),
                        CollectionCase.last_notice_on < due_before,
                    ),
                )
                .order_by(CollectionCase.id)
                .limit(BATCH)
            ).all()
            if not batch:
                break
            contacted = []
            for case_id, loan_id in batch:
                for channel in channels:
                    try:
                        message = send_overdue_notice(
                            loan_id, channel=channel, now=now, purpose_code=stage["purpose"]
                        )
                    except (TemplateMissing, RenderFailed) as error:
                        # A missing template for one language must not stop everyone's contacts.
                        log.warning(
                            "no %s %s notice for loan %s: %s",
                            stage["purpose"],
                            channel.value,
                            loan_id,
                            error,
                        )
                        continue
                    if message is None:  # not overdue yet on the borrower's own calendar
                        continue
                    contacted.append(case_id)
                    if message.status is MessageStatus.BLOCKED:
                        blocked += 1
                    elif message.not_before > now:
                        deferred += 1
                    else:
                        queued += 1
            # Only cases that got a message wait for the next cadence; the others stay due.
            db.session.execute(
                update(CollectionCase)
                .where(CollectionCase.id.in_(set(contacted)))
                .values(last_notice_on=as_of)
                .execution_options(synchronize_session=False)
            )
            db.session.commit()
            last_id = batch[-1][0]
    return queued, deferred, blocked
