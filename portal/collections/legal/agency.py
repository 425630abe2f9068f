"""Outside collection agencies: placing an approved case, the agency's updates, recalling it.

A case has at most one active placement (``recalled_at`` empty); the case row is locked before
this is checked, so two admins placing one case at once get one placement and a refusal. Every
function flushes, never commits, and audits in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from flask_babel import gettext as _
from sqlalchemy import select

from portal.audit.services import record as audit
from portal.auth.models import BorrowerProfile, User
from portal.collections.cases.access import CaseNotOpen, authorized_case
from portal.collections.labels import AGENCY_STATUS_LABELS, label
from portal.collections.legal.access import Actor
from portal.collections.legal.agency_notices import PLACED, RECALLED, tell_borrower
from portal.collections.legal.errors import (
    AgencyRequired,
    NoActivePlacement,
    NotApproved,
    PlacementActive,
    StatusRequired,
)
from portal.collections.models import AgencyPlacement, CaseStatus, CollectionCase, LegalStatus
from portal.csvexport import stream_csv
from portal.extensions import db
from portal.loans.models import Loan
from portal.money import Money

AGENCY_MAX = 120
STATUS_MAX = 40
NOTE_MAX = 2000
EXPORT_BATCH = 500


def active_placement(case_id: int) -> AgencyPlacement | None:
    return db.session.scalar(
        select(AgencyPlacement).where(
            AgencyPlacement.case_id == case_id, AgencyPlacement.recalled_at.is_(None)
        )
    )


def _active_or_refuse(case_id: int) -> AgencyPlacement:
    placement = active_placement(case_id)
    if placement is None:
        raise NoActivePlacement()
    return placement


def place_with_agency(
    case_id: int, *, agency: str, actor: Actor, now: datetime, ip_address: str | None
) -> AgencyPlacement:
    """Place an open, legally approved case with ``agency``; audits ``agency.placed`` and tells
    the borrower in their account (a required notice).

    Raises CaseNotFound, AgencyRequired, NotApproved, CaseNotOpen, PlacementActive or
    TemplateMissing (no notice template: the borrower could not be told).
    """
    agency = agency.strip()[:AGENCY_MAX]
    if not agency:
        raise AgencyRequired()
    case = authorized_case(case_id, actor, lock=True)
    if case.legal_status is not LegalStatus.APPROVED:
        raise NotApproved()
    if case.status is not CaseStatus.OPEN:
        raise CaseNotOpen()
    if active_placement(case.id) is not None:
        raise PlacementActive()
    placement = AgencyPlacement(
        case_id=case.id,
        agency=agency,
        placed_at=now,
        placed_by=actor.id,
        status="placed",
        updates=[],
    )
    db.session.add(placement)
    db.session.flush()
    audit(
        "agency.placed",
        now=now,
        actor_id=actor.id,
        object_type="agency_placement",
        object_id=placement.id,
        details={"case_id": case.id, "agency": agency},
        ip_address=ip_address,
    )
    tell_borrower(case, placement, PLACED, now=now, actor_id=actor.id)
    return placement


def recall_placement(
    case_id: int, *, note: str, actor: Actor, now: datetime, ip_address: str | None
) -> AgencyPlacement:
    """Take the case back from its agency; audits ``agency.recalled`` and tells the borrower.
    Raises CaseNotFound, NoActivePlacement or TemplateMissing."""
    case = authorized_case(case_id, actor, lock=True)
    placement = _active_or_refuse(case.id)
    placement.recalled_at = now
    placement.status = "recalled"
    placement.updates = [*placement.updates, _entry("recalled", note, actor, now)]
    db.session.flush()
    audit(
        "agency.recalled",
        now=now,
        actor_id=actor.id,
        object_type="agency_placement",
        object_id=placement.id,
        details={"case_id": case.id, "agency": placement.agency, "note": note.strip()},
        ip_address=ip_address,
    )
    tell_borrower(case, placement, RECALLED, now=now, actor_id=actor.id)
    return placement


def record_agency_update(
    case_id: int,
    *,
    status: str,
    note: str,
    actor: Actor,
    now: datetime,
    ip_address: str | None,
) -> AgencyPlacement:
    """Append what the agency reported (status, note, when, who) to the active placement and make
    ``status`` its current status; audits ``agency.updated``. Raises CaseNotFound,
    StatusRequired or NoActivePlacement."""
    status = status.strip()[:STATUS_MAX]
    if not status:
        raise StatusRequired()
    case = authorized_case(case_id, actor, lock=True)
    placement = _active_or_refuse(case.id)
    placement.status = status
    # A new list, so that SQLAlchemy sees the JSON column change.
    placement.updates = [*placement.updates, _entry(status, note, actor, now)]
    db.session.flush()
    audit(
        "agency.updated",
        now=now,
        actor_id=actor.id,
        object_type="agency_placement",
        object_id=placement.id,
        details={"case_id": case.id, "status": status, "note": note.strip()[:NOTE_MAX]},
        ip_address=ip_address,
    )
    return placement


def _entry(status: str, note: str, actor: Actor, now: datetime) -> dict:
    return {
        "at": now.astimezone(UTC).isoformat(),
        "by": actor.id,
        "by_name": actor.name,
        "status": status,
        "note": note.strip()[:NOTE_MAX],
    }


def record_export(*, actor: Actor, now: datetime, ip_address: str | None) -> None:
    """Audit ``agency.placements_exported`` (the export holds borrowers' phone numbers)."""
    audit(
        "agency.placements_exported",
        now=now,
        actor_id=actor.id,
        object_type="agency_placement",
        details={"active_only": True},
        ip_address=ip_address,
    )


def export_header() -> list[str]:
    """The export's column names, in the reader's language (like the overdue CSV's)."""
    return [
        _("Case ID"),
        _("Loan reference"),
        _("Borrower"),
        _("Phone"),
        _("Principal overdue"),
        _("Interest overdue"),
        _("Fees overdue"),
        _("Late charges overdue"),
        _("Total overdue"),
        _("Currency"),
        _("Days past due"),
        _("Agency"),
        _("Status"),
        _("Placed at (UTC)"),
    ]


def active_placement_rows(batch_size: int = EXPORT_BATCH) -> Iterator[list]:
    """One row per active placement, by placement id, ``batch_size`` rows per query (keyset), so
    memory stays flat however many cases are placed. Amounts are from the latest run."""
    last_id = 0
    while True:
        batch = db.session.execute(
            select(
                AgencyPlacement, CollectionCase, Loan.reference, User.name, BorrowerProfile.phone
            )
            .join(CollectionCase, CollectionCase.id == AgencyPlacement.case_id)
            .join(Loan, Loan.id == CollectionCase.loan_id)
            .join(User, User.id == CollectionCase.borrower_id)
            .join(BorrowerProfile, BorrowerProfile.user_id == CollectionCase.borrower_id)
            .where(AgencyPlacement.recalled_at.is_(None), AgencyPlacement.id > last_id)
            .order_by(AgencyPlacement.id)
            .limit(batch_size)
        ).all()
        if not batch:
            return
        for placement, case, reference, name, phone in batch:
            yield [
                case.id,
                reference,
                name,
                phone or "",
                *(
                    _decimal(minor, case.currency)
                    for minor in (
                        case.overdue_principal,
                        case.overdue_interest,
                        case.overdue_fee,
                        case.overdue_late_charge,
                        case.overdue_total,
                    )
                ),
                case.currency,
                case.days_past_due,
                placement.agency,
                label(AGENCY_STATUS_LABELS, placement.status),
                placement.placed_at.astimezone(UTC).isoformat(),
            ]
        last_id = batch[-1][0].id  # the identity map holds rows weakly: written rows are freed


def _decimal(minor: int, currency: str) -> str:
    return str(Money(minor, currency).decimal)


def start_placements_export(
    *, actor: Actor, now: datetime, ip_address: str | None
) -> Iterator[str]:
    """Audit the export (flushes) and return the CSV of active placements as a lazy stream, a
    row at a time. The caller commits the audit event before streaming."""
    record_export(actor=actor, now=now, ip_address=ip_address)
    header = export_header()  # translated now, in the request's language
    return stream_csv(header, ([row] for row in active_placement_rows()))
