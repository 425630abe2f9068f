"""Declaring hardship (the borrower) and deciding it (an admin).

Declaring: on the open case of the borrower's own loan, one request under review per case (a
partial unique index backs the check made under the case's row lock). It opens a
``HARDSHIP_REVIEW`` contact hold that lapses after ``hold_days`` (``ContactHold.expires_at``, read
by the guard's facts), so collection contact pauses at most that long without a decision.

Deciding: closes that hold and applies the decision: a pause (a new hold lapsing after N days),
a waiver of the overdue late charges and/or interest through ``portal.loans.adjustments.waive``
(the one waiver), a referral to a repayment plan (decision text only: plans are a later step), or
no change. Audited; the borrower is told through the outbox (purpose ``hardship_decision``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.audit.services import record as audit
from portal.auth.models import User
from portal.collections.cases.access import CaseNotFound, Viewer, authorized_case
from portal.collections.cases.promises import NoOverdueCase, open_case_of_borrower_loan
from portal.domain import DomainError, NotFound
from portal.extensions import db
from portal.hardship import storage
from portal.hardship.models import (
    HardshipDocument,
    HardshipReason,
    HardshipRequest,
    HardshipStatus,
)
from portal.loans.services import loan_of_borrower
from portal.messaging.contact_controls import open_hold
from portal.messaging.models import HoldReason

DETAILS_MAX = 2000


class HardshipRefused(DomainError):
    status_code = 422
    field: str | None = None


class HardshipNoCase(HardshipRefused):
    status_code = 409
    message = _l(
        "A hardship review is for a loan with an overdue amount. If you expect difficulty "
        "with a coming payment, please contact our support team."
    )


class HardshipPending(HardshipRefused):
    status_code = 409
    message = _l("You already have a hardship request under review for this loan.")


@dataclass(frozen=True)
class HardshipSettings:
    hold_days: int = 14
    max_files: int = 3
    max_file_bytes: int = 5 * 1024 * 1024


def declare_hardship(
    loan_id: int,
    *,
    borrower: User,
    reason: HardshipReason,
    details: str,
    uploads: list[storage.Upload],
    now: datetime,
    settings: HardshipSettings,
    ip_address: str | None = None,
) -> HardshipRequest:
    """Record the borrower's hardship on the open case of their loan, with its documents, and
    pause collection contact for review. Raises NotFound (not their loan), HardshipNoCase,
    HardshipPending, or a DocumentRefused (nothing is kept). Writes the files; the caller
    commits, or calls ``storage.discard`` on the stored names if it rolls back."""
    loan = loan_of_borrower(borrower.id, loan_id)
    try:
        case = open_case_of_borrower_loan(borrower.id, loan.id, lock=True)
    except NoOverdueCase:
        raise HardshipNoCase() from None
    if _pending_request(case.id) is not None:
        raise HardshipPending()
    if len(uploads) > settings.max_files:
        raise storage.TooManyDocuments(settings.max_files)
    checked = [storage.check_upload(u, max_bytes=settings.max_file_bytes) for u in uploads]
    hold = open_hold(
        borrower.id,
        HoldReason.HARDSHIP_REVIEW,
        "",
        actor_id=borrower.id,
        now=now,
        ip_address=ip_address,
        expires_at=now + timedelta(days=settings.hold_days),
    )
    request = HardshipRequest(
        case_id=case.id,
        borrower_id=borrower.id,
        loan_id=loan.id,
        reason=reason,
        details=details.strip()[:DETAILS_MAX],
        status=HardshipStatus.PENDING,
        created_at=now,
        hold_id=hold.id,
    )
    stored: list[str] = []
    try:
        for document in checked:
            stored.append(storage.store(document.data))
            request.documents.append(
                HardshipDocument(
                    stored_name=stored[-1],
                    filename=document.filename,
                    content_type=document.content_type,
                    size_bytes=len(document.data),
                    uploaded_at=now,
                )
            )
        db.session.add(request)
        db.session.flush()
    except Exception:
        storage.discard(stored)  # no file without its row
        raise
    audit(
        "hardship.declared",
        now=now,
        actor_id=borrower.id,
        object_type="collection_case",
        object_id=case.id,
        details={"request": request.id, "reason": reason.value, "documents": len(checked)},
        ip_address=ip_address,
    )
    return request


def _pending_request(case_id: int) -> HardshipRequest | None:
    return db.session.scalar(
        select(HardshipRequest).where(
            HardshipRequest.case_id == case_id, HardshipRequest.status == HardshipStatus.PENDING
        )
    )


def requests_of_loan(borrower_id: int, loan_id: int) -> list[HardshipRequest]:
    """The borrower's hardship requests on this loan, newest first, with their documents."""
    return list(
        db.session.scalars(
            select(HardshipRequest)
            .where(HardshipRequest.borrower_id == borrower_id, HardshipRequest.loan_id == loan_id)
            .options(selectinload(HardshipRequest.documents))
            .order_by(HardshipRequest.created_at.desc(), HardshipRequest.id.desc())
        )
    )


def requests_of_case(case_id: int) -> list[HardshipRequest]:
    """A case's hardship requests, newest first, with their documents (the caller authorized
    the case)."""
    return list(
        db.session.scalars(
            select(HardshipRequest)
            .where(HardshipRequest.case_id == case_id)
            .options(selectinload(HardshipRequest.documents))
            .order_by(HardshipRequest.created_at.desc(), HardshipRequest.id.desc())
        )
    )


def document_for_borrower(borrower_id: int, document_id: int) -> HardshipDocument:
    """One of the borrower's own documents (NotFound for anyone else's)."""
    document = db.session.scalar(
        select(HardshipDocument)
        .join(HardshipRequest, HardshipRequest.id == HardshipDocument.request_id)
        .where(HardshipDocument.id == document_id, HardshipRequest.borrower_id == borrower_id)
    )
    if document is None:
        raise NotFound()
    return document


def document_for_staff(viewer: Viewer, document_id: int) -> HardshipDocument:
    """A document of a case ``viewer`` may open (``authorized_case``): CaseNotFound (404) or
    CaseOfAnotherCollector (403) otherwise."""
    document = db.session.get(HardshipDocument, document_id)
    if document is None:
        raise CaseNotFound()
    authorized_case(document.request.case_id, viewer)
    return document


def pending_request_locked(request_id: int) -> HardshipRequest:
    """The request with its row lock (NotFound if missing)."""
    request = db.session.scalar(
        select(HardshipRequest)
        .where(HardshipRequest.id == request_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if request is None:
        raise NotFound()
    return request
