"""Who may open a case, and loading it (optionally locked) for a viewer: the one rule for every
case page, action and legal step, and for every list of cases (queue, overdue report and CSV).

A collector opens the cases assigned to them; every case when the portal setting
``case_visibility`` is ``all``. Admins open every case. Other roles open none.
``cases_visible_to`` states that rule once, as a SQL condition; ``authorized_case`` applies it.
"""

from __future__ import annotations

from typing import Protocol

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, false, select, true

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


def cases_visible_to(viewer: Viewer) -> ColumnElement[bool]:
    """The SQL condition on ``CollectionCase`` rows that ``viewer`` may open: every case for an
    admin (and for a collector when ``case_visibility`` is ``all``), a collector's own assigned
    cases otherwise, none for other roles. The one rule of the case pages and every case list."""
    if viewer.role is Role.ADMIN:
        return true()
    if viewer.role is not Role.COLLECTOR:
        return false()
    if everyone_sees_every_case():
        return true()
    return CollectionCase.assigned_to == viewer.id


def authorized_case(case_id: int, viewer: Viewer, *, lock: bool = False) -> CollectionCase:
    """The case, if ``viewer`` may open it (``cases_visible_to``). ``lock`` takes its row lock
    (SELECT ... FOR UPDATE) until the transaction ends, and reloads it, so two staff members
    changing one case queue up and checks made afterwards see the first one's committed work.

    Raises CaseNotFound (404) or CaseOfAnotherCollector (403).
    """
    visible = cases_visible_to(viewer).label("visible")
    query = select(CollectionCase, visible).where(CollectionCase.id == case_id)
    if lock:
        query = query.with_for_update(of=CollectionCase).execution_options(populate_existing=True)
    row = db.session.execute(query).one_or_none()
    if row is None:
        raise CaseNotFound()
    if not row.visible:  # NULL (an unassigned case) is not visible either
        raise CaseOfAnotherCollector()
    return row[0]


def lock_open_case(case_id: int, viewer: Viewer) -> CollectionCase:
    """The case locked for a change: authorized, and open (CaseNotOpen otherwise)."""
    case = authorized_case(case_id, viewer, lock=True)
    if case.status is not CaseStatus.OPEN:
        raise CaseNotOpen()
    return case


def borrower_timezone(case: CollectionCase) -> str:
    """The IANA time zone of the case's borrower."""
    return db.session.execute(select(User.timezone).where(User.id == case.borrower_id)).scalar_one()
