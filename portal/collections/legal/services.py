"""Requesting legal approval and the admin's decision, which freezes the evidence bundle.

Every function takes ``now``, flushes and never commits (the route commits once), and records its
audit event in the same transaction. They check the audit chain (``verify_incrementally()``: only
what was appended since the last check) after finding the case the actor may work on, and lock
the rows they change (``FOR UPDATE`` on PostgreSQL), so two staff members acting on one request
or case queue up, and the second one is refused with a clear message instead of repeating the
first one's change.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.audit.services import record as audit
from portal.audit.services import verify_incrementally
from portal.collections.cases.access import CaseNotOpen, authorized_case
from portal.collections.legal.access import Actor
from portal.collections.legal.disclosure import freeze_bundle
from portal.collections.legal.errors import (
    AlreadyApproved,
    AlreadyDecided,
    EvidenceIncomplete,
    NoteRequired,
    NotInStage3,
    ReasonRequired,
    RequestNotFound,
    RequestPending,
)
from portal.collections.legal.evidence import Evidence, assemble_evidence
from portal.collections.models import (
    CaseStatus,
    CaseTransition,
    CollectionCase,
    LegalRequest,
    LegalStatus,
)
from portal.domain import DomainError
from portal.extensions import db
from portal.timeutil import portfolio_today

REASON_MAX = 2000


def _today(now: datetime) -> date:
    return portfolio_today(now)


def pending_request(case_id: int) -> LegalRequest | None:
    return db.session.scalar(
        select(LegalRequest).where(LegalRequest.case_id == case_id, LegalRequest.decision.is_(None))
    )


def request_refusal(case: CollectionCase, pending: LegalRequest | None) -> DomainError | None:
    """Why legal approval cannot be requested for ``case`` now (None: it can, evidence aside)."""
    if case.status is not CaseStatus.OPEN:
        return CaseNotOpen()
    if case.legal_status is LegalStatus.APPROVED:
        return AlreadyApproved()
    if pending is not None or case.legal_status is LegalStatus.REQUESTED:
        return RequestPending()
    if case.stage != 3:
        return NotInStage3(
            _l(
                "Legal approval can be requested only for cases in stage 3; "
                "this case is in stage %(stage)s.",
                stage=case.stage,
            )
        )
    return None


def _require_complete(evidence: Evidence) -> None:
    missing = evidence.missing()
    if missing:
        raise EvidenceIncomplete(
            _l(
                "The evidence is not complete. Missing: %(items)s.",
                items=", ".join(str(item.label) for item in missing),
            )
        )


def request_legal(
    case_id: int, *, reason: str, actor: Actor, now: datetime, ip_address: str | None
) -> LegalRequest:
    """Ask an admin to take a stage-3 case to the legal stage, with the evidence checklist.

    Sets ``legal_status`` to requested, adds an ``escalated`` transition and audits
    ``legal.requested``. Raises CaseNotFound, ReasonRequired, CaseNotOpen, AlreadyApproved,
    RequestPending, NotInStage3 or EvidenceIncomplete before writing anything.
    """
    reason = reason.strip()
    if not reason:
        raise ReasonRequired()
    authorized_case(case_id, actor)  # authorized before any work on the audit log
    verification = verify_incrementally()  # before the lock: it is not held while verifying
    case = authorized_case(case_id, actor, lock=True)
    refusal = request_refusal(case, pending_request(case.id))
    if refusal is not None:
        raise refusal
    evidence = assemble_evidence(case, verification, now=now)
    _require_complete(evidence)
    request = LegalRequest(
        case_id=case.id,
        requested_by=actor.id,
        requested_at=now,
        reason=reason[:REASON_MAX],
        checklist=evidence.checklist_json(),
    )
    db.session.add(request)
    case.legal_status = LegalStatus.REQUESTED
    db.session.add(
        CaseTransition(
            case_id=case.id,
            kind="escalated",
            from_stage=case.stage,
            to_stage=None,  # not a stage change (yet): the request awaits an admin
            reason="legal approval requested",
            run_on=_today(now),
            actor_id=actor.id,
            created_at=now,
        )
    )
    db.session.flush()
    audit(
        "legal.requested",
        now=now,
        actor_id=actor.id,
        object_type="legal_request",
        object_id=request.id,
        details={"case_id": case.id, "loan_id": case.loan_id, "reason": request.reason},
        ip_address=ip_address,
    )
    return request


def decide_request(
    request_id: int,
    *,
    approve: bool,
    note: str,
    actor: Actor,
    now: datetime,
    ip_address: str | None,
) -> LegalRequest:
    """Approve or reject a pending request (admins; the route checks the role).

    Approval re-checks the evidence (every item must be present now), freezes the evidence
    bundle on the request (its bytes and ``bundle_sha256``: what was approved is what downloads
    hand over), moves the case from stage 3 to 4 with a ``stage`` transition (reason "legal
    approval") and audits ``legal.approved`` with the bundle's hash.
    Rejection needs a note and audits ``legal.rejected``. The request row is locked first: of
    two admins deciding at once, the second gets AlreadyDecided. Also raises RequestNotFound,
    NoteRequired, CaseNotOpen, NotInStage3, EvidenceIncomplete.
    """
    note = note.strip()
    if not approve and not note:
        raise NoteRequired()
    verification = verify_incrementally() if approve else None
    request = db.session.scalar(
        select(LegalRequest)
        .where(LegalRequest.id == request_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if request is None:
        raise RequestNotFound()
    if request.decision is not None:
        raise AlreadyDecided()
    case = authorized_case(request.case_id, actor, lock=True)
    details: dict = {"case_id": case.id, "loan_id": case.loan_id, "note": note}
    if verification is not None:
        details.update(_approve(request, case, verification, actor=actor, now=now))
    else:
        case.legal_status = LegalStatus.REJECTED
        request.decision = "rejected"
    request.decided_by, request.decided_at = actor.id, now
    request.decision_note = note or None
    db.session.flush()
    audit(
        f"legal.{request.decision}",
        now=now,
        actor_id=actor.id,
        object_type="legal_request",
        object_id=request.id,
        details=details,
        ip_address=ip_address,
    )
    return request


def _approve(
    request: LegalRequest, case: CollectionCase, verification, *, actor: Actor, now: datetime
) -> dict:
    """Check the case may go to the legal stage, freeze its evidence bundle on the request and
    move it to stage 4. Returns what the audit event adds. Raises CaseNotOpen, NotInStage3,
    EvidenceIncomplete."""
    if case.status is not CaseStatus.OPEN:
        raise CaseNotOpen()
    if case.stage != 3:
        raise NotInStage3(
            _l(
                "Only a case in stage 3 can be approved for the legal stage; "
                "this case is in stage %(stage)s.",
                stage=case.stage,
            )
        )
    evidence = assemble_evidence(case, verification, now=now)
    _require_complete(evidence)
    bundle = freeze_bundle(request, evidence, actor_id=actor.id, now=now)
    db.session.add(
        CaseTransition(
            case_id=case.id,
            kind="stage",
            from_stage=3,
            to_stage=4,
            reason="legal approval",
            run_on=_today(now),
            actor_id=actor.id,
            created_at=now,
        )
    )
    case.stage, case.stage_entered_on = 4, _today(now)
    case.legal_status = LegalStatus.APPROVED
    request.decision = "approved"
    return {"checklist": evidence.checklist_json(), "bundle_sha256": bundle.manifest_sha256}
