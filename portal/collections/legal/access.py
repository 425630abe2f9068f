"""Which staff member may work on which case, the same rule as the case pages
(``portal.collections.cases.access``): admins every case; collectors the cases assigned to them,
or every case when the ``case_visibility`` setting is ``all``.

Every legal service loads its case through ``case_for``, so the object check is part of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from portal.auth.models import Role
from portal.collections.cases.access import (
    CaseNotFound,
    CaseOfAnotherCollector,
    everyone_sees_every_case,
)
from portal.collections.models import CollectionCase
from portal.extensions import db

__all__ = ["Actor", "CaseNotFound", "CaseOfAnotherCollector", "case_for"]


@dataclass(frozen=True)
class Actor:
    """The staff member acting, as plain values (safe to keep after the session is cleared)."""

    id: int
    role: Role
    name: str

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


def case_for(actor: Actor, case_id: int, *, lock: bool = False) -> CollectionCase:
    """The case if ``actor`` may work on it: CaseNotFound (404) if there is none, and
    CaseOfAnotherCollector (403) for a collector it is not assigned to.

    ``lock`` takes the row lock (``SELECT ... FOR UPDATE`` on PostgreSQL) and reloads the row, so
    two staff members changing one case queue up and the second sees the first one's change.
    """
    query = select(CollectionCase).where(CollectionCase.id == case_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    case = db.session.scalar(query)
    if case is None:
        raise CaseNotFound()
    if actor.is_admin:
        return case
    if actor.role is Role.COLLECTOR and (
        case.assigned_to == actor.id or everyone_sees_every_case()
    ):
        return case
    raise CaseOfAnotherCollector()
