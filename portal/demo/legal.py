"""The demo's pending legal request: one stage-3 case its collector asked an admin to take to
the legal stage, with the evidence checklist complete, so the admin's requests page has work."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from portal.collections.legal.access import Actor
from portal.collections.legal.services import request_legal
from portal.collections.models import CaseStatus, CollectionCase, LegalRequest, LegalStatus
from portal.demo.accounts import collector
from portal.domain import DomainError
from portal.extensions import db

DEMO_LEGAL_REASON = (
    "No payment for over three months despite SMS, email and portal notices and repeated calls; "
    "the borrower has not answered since the last promise was broken. Requesting a lawyer's "
    "letter."
)


def seed_legal_request(now: datetime) -> bool:
    """Request legal approval, as the demo collector, for the first open stage-3 case (by id)
    whose evidence is complete; nothing if the demo has a legal request already (idempotent).
    Returns whether a request was made. Flushes (a refused case leaves nothing: savepoint)."""
    staff = collector()
    if staff is None or db.session.scalar(select(LegalRequest.id).limit(1)) is not None:
        return False
    actor = Actor(id=staff.id, role=staff.role, name=staff.name)
    candidates = db.session.scalars(
        select(CollectionCase.id)
        .where(
            CollectionCase.status == CaseStatus.OPEN,
            CollectionCase.stage == 3,
            CollectionCase.legal_status == LegalStatus.NONE,
        )
        .order_by(CollectionCase.id)
    ).all()
    for case_id in candidates:
        try:
            with db.session.begin_nested():
                request_legal(
                    case_id, reason=DEMO_LEGAL_REASON, actor=actor, now=now, ip_address=None
                )
        except DomainError:  # evidence missing, or not this collector's case: the next one
            continue
        return True
    return False
