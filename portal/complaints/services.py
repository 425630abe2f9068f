"""The borrower's side of a complaint: file it, follow it, reply, add evidence, withdraw, rate.

Filing gives a reference at once (``numbering``), fixes the rulebook (the borrower's override,
else the lender's, mapped by ``clocks.complaint_rulebook_for``) and starts the clocks at
``received_at``. Complaints about collecting (``HOLD_CATEGORIES``) open a ``COMPLAINT`` contact
hold, released when the complaint is resolved or withdrawn. Every action is audited; callers
commit once (or roll back and ``attachments.discard`` the files written).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.audit.services import record as audit
from portal.auth.models import BorrowerProfile, User
from portal.complaints import attachments
from portal.complaints.calendar import business_calendar
from portal.complaints.clocks import complaint_clocks, complaint_rulebook_for
from portal.complaints.lifecycle import OPEN_STATUSES, Action, NotOpen
from portal.complaints.models import (
    HOLD_CATEGORIES,
    Complaint,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintStatus,
    EventKind,
)
from portal.complaints.numbering import next_reference
from portal.complaints.thread import BODY_MAX, add_event, move
from portal.domain import DomainError, NotFound
from portal.extensions import db
from portal.hardship.storage import Upload
from portal.loans.models import Loan, Payment
from portal.loans.services import loan_of_borrower
from portal.messaging.contact_controls import close_hold, open_hold
from portal.messaging.models import ContactHold, HoldReason
from portal.messaging.rulebooks import lender_rulebook_code

DESCRIPTION_MIN = 10


class ComplaintRefused(DomainError):
    status_code = 422
    field: str | None = None


class DescriptionInvalid(ComplaintRefused):
    field = "description"
    message = _l(
        "Please describe your complaint in %(min)d to %(max)d characters.",
        min=DESCRIPTION_MIN,
        max=BODY_MAX,
    )


class MessageInvalid(ComplaintRefused):
    field = "body"
    message = _l("A message is 1 to %(max)d characters long.", max=BODY_MAX)


class RatingInvalid(ComplaintRefused):
    field = "rating"
    message = _l("Choose a rating from 1 to 5.")


class ComplaintNotFound(NotFound):
    message = _l("We could not find that complaint.")


@dataclass(frozen=True)
class ComplaintSettings:
    timezone: str  # the lender's business calendar zone
    reopen_days: int = 30
    acknowledge_business_days: int = 1
    max_files: int = 3
    max_file_bytes: int = 5 * 1024 * 1024

    @property
    def reopen_window(self) -> timedelta:
        return timedelta(days=self.reopen_days)


def checked_text(text: str, error: type[ComplaintRefused], minimum: int = 1) -> str:
    text = text.strip()
    if not minimum <= len(text) <= BODY_MAX:
        raise error()
    return text


def file_complaint(
    *,
    borrower: User,
    category: ComplaintCategory,
    description: str,
    loan_id: int | None,
    payment_id: int | None,
    uploads: list[Upload],
    channel: ComplaintChannel,
    received_at: datetime,
    now: datetime,
    settings: ComplaintSettings,
    actor_id: int | None = None,
    ip_address: str | None = None,
) -> Complaint:
    """File a complaint for ``borrower`` (``actor_id``: staff filing for them; the borrower by
    default). The loan and payment must be the borrower's own (NotFound otherwise). Raises
    DescriptionInvalid or a DocumentRefused; writes the files (the caller discards them on
    rollback). The clocks start at ``received_at`` (the borrower's first message)."""
    actor = borrower.id if actor_id is None else actor_id
    description = checked_text(description, DescriptionInvalid, DESCRIPTION_MIN)
    loan = loan_of_borrower(borrower.id, loan_id) if loan_id is not None else None
    if payment_id is not None:
        _payment_of_borrower(borrower.id, payment_id, loan.id if loan else None)
    checked = attachments.check_all(uploads, settings)
    rulebook = _rulebook_of(borrower.id)
    clocks = complaint_clocks(
        rulebook,
        received_at,
        settings.timezone,
        business_calendar(rulebook),
        acknowledge_business_days=settings.acknowledge_business_days,
    )
    complaint = Complaint(
        reference=next_reference(received_at.astimezone(ZoneInfo(settings.timezone)).year),
        borrower_id=borrower.id,
        category=category,
        description=description,
        loan_id=loan.id if loan else None,
        payment_id=payment_id,
        channel=channel,
        status=ComplaintStatus.SUBMITTED,
        rulebook_code=rulebook,
        received_at=received_at,
        acknowledge_due_at=clocks.acknowledge_by,
        response_due_at=clocks.respond_by,
        extension_level=0,
    )
    db.session.add(complaint)
    db.session.flush()
    add_event(complaint, EventKind.FILED, public=True, now=now, actor_id=actor, body=description)
    attachments.attach(complaint, checked, uploaded_by=actor, now=now)
    if category in HOLD_CATEGORIES:
        complaint.hold_id = open_hold(
            borrower.id,
            HoldReason.COMPLAINT,
            complaint.reference,
            actor_id=actor,
            now=now,
            ip_address=ip_address,
        ).id
    audit(
        "complaint.filed",
        now=now,
        actor_id=actor,
        object_type="complaint",
        object_id=complaint.id,
        details={
            "reference": complaint.reference,
            "category": category.value,
            "channel": channel.value,
            "rulebook": rulebook,
            "attachments": len(checked),
        },
        ip_address=ip_address,
    )
    return complaint


def _rulebook_of(borrower_id: int) -> str:
    override = db.session.scalar(
        select(BorrowerProfile.rulebook_code).where(BorrowerProfile.user_id == borrower_id)
    )
    return complaint_rulebook_for(override or lender_rulebook_code())


def _payment_of_borrower(borrower_id: int, payment_id: int, loan_id: int | None) -> Payment:
    query = (
        select(Payment)
        .join(Loan, Loan.id == Payment.loan_id)
        .where(Payment.id == payment_id, Loan.borrower_id == borrower_id)
    )
    if loan_id is not None:
        query = query.where(Payment.loan_id == loan_id)
    payment = db.session.scalar(query)
    if payment is None:
        raise NotFound()
    return payment


def complaints_of_borrower(borrower_id: int) -> list[Complaint]:
    """The borrower's complaints, newest first."""
    return list(
        db.session.scalars(
            select(Complaint)
            .where(Complaint.borrower_id == borrower_id)
            .order_by(Complaint.received_at.desc(), Complaint.id.desc())
        )
    )


def complaint_for_borrower(borrower_id: int, reference: str, *, lock: bool = False) -> Complaint:
    """The borrower's own complaint by reference (ComplaintNotFound for anyone else's)."""
    query = (
        select(Complaint)
        .where(Complaint.reference == reference, Complaint.borrower_id == borrower_id)
        .options(selectinload(Complaint.events), selectinload(Complaint.attachments))
    )
    if lock:
        query = query.with_for_update(of=Complaint).execution_options(populate_existing=True)
    complaint = db.session.scalar(query)
    if complaint is None:
        raise ComplaintNotFound()
    return complaint


def borrower_reply(
    borrower: User,
    reference: str,
    body: str,
    uploads: list[Upload],
    *,
    now: datetime,
    settings: ComplaintSettings,
    ip_address: str | None,
) -> Complaint:
    """The borrower writes (and may add files) on an open complaint. Awaited information moves
    it back to investigating. Raises ComplaintNotFound, NotOpen, MessageInvalid, DocumentRefused."""
    complaint = complaint_for_borrower(borrower.id, reference, lock=True)
    if complaint.status not in OPEN_STATUSES:
        raise NotOpen()
    text = body.strip()
    if not text and not uploads:
        raise MessageInvalid()
    if text:
        text = checked_text(text, MessageInvalid)
    checked = attachments.check_all(uploads, settings, already=len(complaint.attachments))
    if text:
        add_event(
            complaint,
            EventKind.BORROWER_REPLY,
            public=True,
            now=now,
            actor_id=borrower.id,
            body=text,
        )
    if checked:
        attachments.attach(complaint, checked, uploaded_by=borrower.id, now=now)
        names = ", ".join(document.filename for document in checked)
        add_event(
            complaint, EventKind.EVIDENCE, public=True, now=now, actor_id=borrower.id, body=names
        )
    if complaint.status is ComplaintStatus.AWAITING_BORROWER:
        move(complaint, Action.BORROWER_REPLY, now=now, actor_id=borrower.id, ip_address=ip_address)
    audit(
        "complaint.borrower_replied",
        now=now,
        actor_id=borrower.id,
        object_type="complaint",
        object_id=complaint.id,
        details={"attachments": len(checked)},
        ip_address=ip_address,
    )
    return complaint


def withdraw(borrower: User, reference: str, *, now: datetime, ip_address: str | None) -> Complaint:
    """The borrower withdraws an open complaint; its contact hold is released."""
    complaint = complaint_for_borrower(borrower.id, reference, lock=True)
    move(complaint, Action.WITHDRAW, now=now, actor_id=borrower.id, ip_address=ip_address)
    complaint.withdrawn_at = now
    release_hold(complaint, actor_id=borrower.id, now=now, ip_address=ip_address)
    return complaint


def rate(
    borrower: User, reference: str, rating: int, *, now: datetime, ip_address: str | None
) -> Complaint:
    """The borrower rates the resolution (1-5) once it is resolved or closed."""
    complaint = complaint_for_borrower(borrower.id, reference, lock=True)
    if complaint.status not in (ComplaintStatus.RESOLVED, ComplaintStatus.CLOSED):
        raise ComplaintRefused(_l("You can rate a complaint once it is resolved."))
    if not 1 <= rating <= 5:
        raise RatingInvalid()
    complaint.rating = rating
    audit(
        "complaint.rated",
        now=now,
        actor_id=borrower.id,
        object_type="complaint",
        object_id=complaint.id,
        details={"rating": rating},
        ip_address=ip_address,
    )
    db.session.flush()
    return complaint


def release_hold(
    complaint: Complaint, *, actor_id: int | None, now: datetime, ip_address: str | None
) -> None:
    """Close the complaint's contact hold if it is still open (collection contact resumes)."""
    if complaint.hold_id is None:
        return
    hold = db.session.get(ContactHold, complaint.hold_id)
    if hold is not None and hold.closed_at is None:
        close_hold(hold.borrower_id, hold.id, actor_id=actor_id, now=now, ip_address=ip_address)


def reopen_hold(
    complaint: Complaint, *, actor_id: int | None, now: datetime, ip_address: str | None
) -> None:
    """A reopened complaint about collecting pauses collection contact again."""
    if complaint.category in HOLD_CATEGORIES:
        complaint.hold_id = open_hold(
            complaint.borrower_id,
            HoldReason.COMPLAINT,
            complaint.reference,
            actor_id=actor_id,
            now=now,
            ip_address=ip_address,
        ).id
