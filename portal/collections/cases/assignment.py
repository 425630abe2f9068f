"""Who works a case: the active collectors, and an admin moving a case to another of them."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.audit.services import record as audit
from portal.auth.models import Role, User
from portal.collections.cases.access import lock_open_case
from portal.collections.models import CollectionCase
from portal.domain import DomainError
from portal.extensions import db


class NotACollector(DomainError):
    status_code = 422
    message = _l("Choose an active collector.")


class OnlyAdminsReassign(DomainError):
    status_code = 403
    message = _l("Only administrators can move a case to another collector.")


def active_collectors() -> list[tuple[int, str]]:
    """(id, name) of every active collector, by name. One query."""
    return [
        (row.id, row.name)
        for row in db.session.execute(
            select(User.id, User.name)
            .where(User.role == Role.COLLECTOR, User.is_active_account.is_(True))
            .order_by(User.name, User.id)
        )
    ]


def reassign_case(
    case_id: int,
    *,
    viewer: User,
    collector_id: int,
    now: datetime,
    ip_address: str | None = None,
) -> CollectionCase:
    """Assign an open case to an active collector; admins only (OnlyAdminsReassign).
    Audits ``case.reassigned`` with the previous and the new collector. Flushes."""
    if viewer.role is not Role.ADMIN:
        raise OnlyAdminsReassign()
    collector = db.session.get(User, collector_id)
    if collector is None or collector.role is not Role.COLLECTOR or not collector.is_active_account:
        raise NotACollector()
    case = lock_open_case(case_id, viewer)
    previous = case.assigned_to
    case.assigned_to = collector.id
    db.session.flush()
    audit(
        "case.reassigned",
        now=now,
        actor_id=viewer.id,
        object_type="collection_case",
        object_id=case.id,
        details={"from": previous, "to": collector.id},
        ip_address=ip_address,
    )
    return case
