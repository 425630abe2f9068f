"""Complaint attachments: the hardship upload checks (type against content, size, random names
under ``UPLOAD_DIR/complaints``, outside ``static/``), and who may read a file back."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from portal.complaints.models import Complaint, ComplaintAttachment
from portal.domain import NotFound
from portal.extensions import db
from portal.hardship import storage

if TYPE_CHECKING:
    from portal.complaints.services import ComplaintSettings

SUBDIR = "complaints"
MAX_PER_COMPLAINT = 20
# Files written in the session's transaction, kept until it commits or rolls back.
PENDING_KEY = "complaint_files_written"


def check_all(
    uploads: list[storage.Upload], settings: ComplaintSettings, *, already: int = 0
) -> list[storage.CheckedDocument]:
    """Every upload checked (a DocumentRefused for the first bad one, or too many files)."""
    if len(uploads) > settings.max_files:
        raise storage.TooManyDocuments(settings.max_files)
    if already + len(uploads) > MAX_PER_COMPLAINT:
        raise storage.TooManyDocuments(MAX_PER_COMPLAINT)
    return [storage.check_upload(u, max_bytes=settings.max_file_bytes) for u in uploads]


def attach(
    complaint: Complaint,
    documents: list[storage.CheckedDocument],
    *,
    uploaded_by: int | None,
    now: datetime,
) -> list[ComplaintAttachment]:
    """Write the files and their rows; on any failure the files written are removed."""
    stored: list[str] = []
    rows = []
    try:
        for document in documents:
            stored.append(storage.store(document.data, SUBDIR))
            db.session.info.setdefault(PENDING_KEY, []).append(stored[-1])
            row = ComplaintAttachment(
                complaint_id=complaint.id,
                stored_name=stored[-1],
                filename=document.filename,
                content_type=document.content_type,
                size_bytes=len(document.data),
                uploaded_by=uploaded_by,
                uploaded_at=now,
            )
            complaint.attachments.append(row)
            rows.append(row)
        db.session.flush()
    except Exception:
        storage.discard(stored, SUBDIR)
        raise
    return rows


def forget_written() -> None:
    """The transaction committed: the files written in it are kept."""
    db.session.info.pop(PENDING_KEY, None)


def discard_written() -> None:
    """The transaction rolled back: remove the files written in it (no file without its row)."""
    storage.discard(db.session.info.pop(PENDING_KEY, []), SUBDIR)


def path_of(attachment: ComplaintAttachment) -> Path:
    return storage.path_of(attachment.stored_name, SUBDIR)


def attachment_for_borrower(borrower_id: int, attachment_id: int) -> ComplaintAttachment:
    """A file of one of the borrower's own complaints (NotFound for anyone else's)."""
    attachment = db.session.scalar(
        select(ComplaintAttachment)
        .join(Complaint, Complaint.id == ComplaintAttachment.complaint_id)
        .where(ComplaintAttachment.id == attachment_id, Complaint.borrower_id == borrower_id)
    )
    if attachment is None:
        raise NotFound()
    return attachment
