"""Resolving a complaint: the resolution told to the borrower, the remedy, the root cause.

A waiver remedy lowers what the complaint's loan owes through ``portal.loans.adjustments.waive``
(the one waiver, audited as ``ledger.adjusted``): all that is unpaid of the chosen components
(late charges, fees, interest) on the installments due by today. Resolving is a transition of
the lifecycle under the complaint's row lock, so a remedy is booked once however often the
decision is submitted. The complaint's contact hold is released.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.audit.services import record as audit
from portal.auth.models import Role, User
from portal.complaints.handling import complaint_for_staff
from portal.complaints.lifecycle import Action
from portal.complaints.models import Complaint, Remedy, RootCause
from portal.complaints.services import ComplaintRefused, MessageInvalid, checked_text, release_hold
from portal.complaints.thread import move
from portal.extensions import db
from portal.loans.adjustments import waive_all_due
from portal.loans.models import Component, Loan
from portal.timeutil import local_today

WAIVABLE = (Component.LATE_CHARGE, Component.FEE, Component.INTEREST)


class RemedyRefused(ComplaintRefused):
    field = "remedy"


@dataclass(frozen=True)
class Resolution:
    text: str  # shown to the borrower
    remedy: Remedy
    root_cause: RootCause
    systemic: bool = False
    components: tuple[Component, ...] = ()  # for a waiver


def resolve(
    staff: User,
    complaint_id: int,
    resolution: Resolution,
    *,
    now: datetime,
    ip_address: str | None,
) -> Complaint:
    """Resolve the complaint with its remedy. A waiver needs an administrator, a loan on the
    complaint, and something unpaid to waive (RemedyRefused). Raises TransitionRefused when the
    complaint cannot be resolved now (e.g. already resolved: nothing is booked twice)."""
    complaint = complaint_for_staff(staff, complaint_id, lock=True)
    text = checked_text(resolution.text, MessageInvalid)
    move(complaint, Action.RESOLVE, now=now, actor_id=staff.id, ip_address=ip_address, body=text)
    waived = 0
    if resolution.remedy is Remedy.WAIVER:
        waived = _waive(complaint, resolution, text, staff, now, ip_address)
        complaint.remedy_minor = waived
        complaint.remedy_currency = db.session.scalar(
            select(Loan.currency).where(Loan.id == complaint.loan_id)
        )
    complaint.resolution = text
    complaint.remedy = resolution.remedy
    complaint.root_cause = resolution.root_cause
    complaint.systemic = resolution.systemic
    complaint.resolved_at = now
    release_hold(complaint, actor_id=staff.id, now=now, ip_address=ip_address)
    audit(
        "complaint.resolved",
        now=now,
        actor_id=staff.id,
        object_type="complaint",
        object_id=complaint.id,
        details={
            "reference": complaint.reference,
            "remedy": resolution.remedy.value,
            "waived_minor": waived,
            "root_cause": resolution.root_cause.value,
            "systemic": resolution.systemic,
        },
        ip_address=ip_address,
    )
    db.session.flush()
    return complaint


def _waive(
    complaint: Complaint,
    resolution: Resolution,
    reason: str,
    staff: User,
    now: datetime,
    ip_address: str | None,
) -> int:
    if staff.role is not Role.ADMIN:
        raise RemedyRefused(_l("Only an administrator can grant a waiver."))
    if complaint.loan_id is None:
        raise RemedyRefused(_l("A waiver needs a loan on the complaint."))
    components = [c for c in resolution.components if c in WAIVABLE]
    zone = db.session.scalar(select(User.timezone).where(User.id == complaint.borrower_id))
    today = local_today(zone or "UTC", now)
    total = waive_all_due(
        complaint.loan_id,
        components,
        due_before=today + timedelta(days=1),  # what is due today too
        reason=f"{complaint.reference}: {reason}"[:500],
        now=now,
        actor_id=staff.id,
        ip_address=ip_address,
    )
    if total == 0:
        raise RemedyRefused(_l("There is nothing due to waive in the charges you chose."))
    return total
