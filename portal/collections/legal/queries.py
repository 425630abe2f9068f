"""What the legal pages show. Read only: nothing here writes or audits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import aliased

from portal.audit.services import verify_incrementally
from portal.auth.models import User
from portal.collections.cases.access import authorized_case
from portal.collections.legal.access import Actor
from portal.collections.legal.agency import active_placement
from portal.collections.legal.evidence import Evidence, assemble_evidence
from portal.collections.legal.letters import LetterDocument, letter_for_case
from portal.collections.legal.services import request_refusal
from portal.collections.models import AgencyPlacement, CollectionCase, LegalRequest
from portal.domain import DomainError
from portal.extensions import db
from portal.loans.models import Loan


@dataclass
class CaseLegalPage:
    evidence: Evidence
    refusal: DomainError | None  # why no request can be made now, evidence aside
    requests: list[tuple[LegalRequest, str, str | None]]  # request, requester, decider
    placement: AgencyPlacement | None
    letter: LetterDocument | None

    @property
    def case(self) -> CollectionCase:
        return self.evidence.case

    @property
    def approved(self) -> bool:
        """Whether a legal request of the case was approved (its evidence bundle is frozen)."""
        return any(request.decision == "approved" for request, _r, _d in self.requests)


def _requests_of(case_id: int) -> list[tuple[LegalRequest, str, str | None]]:
    requester, decider = aliased(User), aliased(User)
    rows = db.session.execute(
        select(LegalRequest, requester.name, decider.name)
        .join(requester, requester.id == LegalRequest.requested_by)
        .outerjoin(decider, decider.id == LegalRequest.decided_by)
        .where(LegalRequest.case_id == case_id)
        .order_by(LegalRequest.id.desc())
    ).all()
    return [(row[0], row[1], row[2]) for row in rows]


def case_legal_page(case_id: int, *, actor: Actor, now: datetime) -> CaseLegalPage:
    """The case's evidence checklist, requests, letter and placement. Raises CaseNotFound."""
    case = authorized_case(case_id, actor)  # first: nobody else's view verifies anything
    verification = verify_incrementally()  # only what was appended since the last check
    requests = _requests_of(case.id)
    pending = next((r for r, _, _ in requests if r.decision is None), None)
    return CaseLegalPage(
        evidence=assemble_evidence(case, verification, now=now),
        refusal=request_refusal(case, pending),
        requests=requests,
        placement=active_placement(case.id),
        letter=letter_for_case(case),
    )


@dataclass(frozen=True)
class RequestRow:
    request: LegalRequest
    case: CollectionCase
    loan_reference: str
    borrower_name: str
    requested_by: str
    decided_by: str | None


def _request_rows(*, pending: bool, limit: int) -> list[RequestRow]:
    requester, decider, borrower = aliased(User), aliased(User), aliased(User)
    query = (
        select(LegalRequest, CollectionCase, Loan.reference, borrower.name, requester.name)
        .add_columns(decider.name)
        .join(CollectionCase, CollectionCase.id == LegalRequest.case_id)
        .join(Loan, Loan.id == CollectionCase.loan_id)
        .join(borrower, borrower.id == CollectionCase.borrower_id)
        .join(requester, requester.id == LegalRequest.requested_by)
        .outerjoin(decider, decider.id == LegalRequest.decided_by)
    )
    if pending:
        query = query.where(LegalRequest.decision.is_(None)).order_by(LegalRequest.requested_at)
    else:
        query = query.where(LegalRequest.decision.is_not(None)).order_by(
            LegalRequest.decided_at.desc()
        )
    return [RequestRow(*row) for row in db.session.execute(query.limit(limit)).all()]


def pending_requests(limit: int = 200) -> list[RequestRow]:
    """Requests awaiting a decision, oldest first."""
    return _request_rows(pending=True, limit=limit)


def recent_decisions(limit: int = 20) -> list[RequestRow]:
    return _request_rows(pending=False, limit=limit)
