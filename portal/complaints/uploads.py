"""Reading a request's files for the complaint routes, and sending a stored file back."""

from __future__ import annotations

import io

from flask import current_app, request, send_file

from portal.complaints import attachments
from portal.complaints.models import ComplaintAttachment
from portal.complaints.services import ComplaintSettings
from portal.hardship.storage import Upload


def settings() -> ComplaintSettings:
    config = current_app.config
    return ComplaintSettings(
        timezone=config["DEFAULT_TIMEZONE"],
        reopen_days=config["COMPLAINT_REOPEN_DAYS"],
        acknowledge_business_days=config["COMPLAINT_ACKNOWLEDGE_DAYS"],
        max_files=config["HARDSHIP_MAX_FILES"],
        max_file_bytes=config["HARDSHIP_MAX_FILE_BYTES"],
    )


def uploads_of(field_name: str, max_bytes: int) -> list[Upload]:
    """The files sent (empty file inputs left out), each read to at most one byte over the
    limit so an oversized one is refused without being held whole."""
    uploads = []
    for item in request.files.getlist(field_name):
        if not item or (not item.filename and not item.mimetype):
            continue
        try:
            data = item.stream.read(max_bytes + 1)
        finally:
            item.close()
        uploads.append(Upload(item.filename or "", item.mimetype or "", data))
    return uploads


def send_attachment(attachment: ComplaintAttachment):
    """The file as a download, never rendered inline, never cached."""
    response = send_file(
        io.BytesIO(attachments.path_of(attachment).read_bytes()),
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=attachment.filename,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
