"""Who may open a case, and loading it (optionally locked) for a viewer: the one rule for every
case page, action and legal step.

A collector opens the cases assigned to them; every case when the portal setting
``case_visibility`` is ``all``. Admins open every case. Other roles open none.
"""

from __future__ import annotations

from typing import Protocol

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.auth.models import Role, User
from portal.collections.models import CaseStatus, CollectionCase
from portal.domain import DomainError, NotFound
from portal.extensions import db
from portal.messaging.models import PortalSetting

VISIBILITY_KEY = "case_visibility"


class Viewer(Protocol):
    """Who is asking: the signed-in ``User``, or a legal ``Actor`` (plain values)."""

    @property
    def id(self) -> int: ...

    @property
    def role(self) -> Role: ...


class CaseNotFound(NotFound):
    message = _l("We could not find that case.")


class CaseOfAnotherCollector(DomainError):
    status_code = 403
    message = _l("This case is assigned to another collector.")


class CaseNotOpen(DomainError):
    status_code = 409
    message = _l("This case is no longer open, so nothing more can be recorded on it.")


def everyone_sees_every_case() -> bool:
    """True when the ``case_visibility`` setting lets collectors open any case."""
    setting = db.session.get(PortalSetting, VISIBILITY_KEY)
    return setting is not None and setting.value == "all"


def may_open(case: CollectionCase, viewer: Viewer) -> bool:
    """Whether ``viewer`` may open ``case`` (reads the visibility setting only when needed)."""
    if viewer.role is Role.ADMIN:
        return True
    if viewer.role is not Role.COLLECTOR:
        return False
    return case.assigned_to == viewer.id or everyone_sees_every_case()


def authorized_case(case_id: int, viewer: Viewer, *, lock: bool = False) -> CollectionCase:
    """The case, if ``viewer`` may open it. ``lock`` takes its row lock (SELECT ... FOR UPDATE)
    until the transaction ends, and reloads it, so two staff members changing one case queue up
    and checks made afterwards see the first one's committed work.

    Raises CaseNotFound (404) or CaseOfAnotherCollector (403).
    """
    query = select(CollectionCase).where(CollectionCase.id == case_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    case = db.session.execute(query).scalar_one_or_none()
    if case is None:
        raise CaseNotFound()
    if not may_open(case, viewer):
        raise CaseOfAnotherCollector()
    return case


def lock_open_case(case_id: int, viewer: Viewer) -> CollectionCase:
    """The case locked for a change: authorized, and open (CaseNotOpen otherwise)."""
    case = authorized_case(case_id, viewer, lock=True)
    if case.status is not CaseStatus.OPEN:
        raise CaseNotOpen()
    return case


def borrower_timezone(case: CollectionCase) -> str:
    """The IANA time zone of the case's borrower."""
    return db.session.execute(select(User.timezone).where(User.id == case.borrower_id)).scalar_one()
