"""Hardship documents on disk: what may be uploaded, where it is kept, how it is read back.

A file is accepted only when its extension is one of JPEG, PNG or PDF, the type the browser
claimed (if any) agrees, and its first bytes (magic numbers) are that type's; it is not empty and
not above the size limit. It is written under ``UPLOAD_DIR/hardship`` (outside ``static/``, so
never served by the web server) under a random name: the uploaded name is only ever shown, never
used as a path.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import Request, current_app
from flask_babel import lazy_gettext as _l
from werkzeug.utils import secure_filename

from portal.domain import DomainError, NotFound

# extension -> the content type it must be
EXTENSION_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".pdf": "application/pdf",
}
MAGIC = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "application/pdf": (b"%PDF-",),
}
# Browsers sometimes claim these for a file whose extension says the real type.
LOOSE_CLAIMS = {"", "application/octet-stream", "image/jpg", "image/pjpeg", "application/x-pdf"}
STORED_NAME = re.compile(r"^[0-9a-f]{32}$")
FILENAME_MAX = 120
SUBDIR = "hardship"


class DocumentRefused(DomainError):
    status_code = 422


class DocumentEmpty(DocumentRefused):
    message = _l("One of the files is empty.")


class DocumentTooLarge(DocumentRefused):
    def __init__(self, max_bytes: int):
        super().__init__(
            _l("Each file may be at most %(size)s MB.", size=f"{max_bytes / (1024 * 1024):g}")
        )


class DocumentTypeNotAllowed(DocumentRefused):
    message = _l("Only JPEG or PNG images and PDF documents can be uploaded.")


class DocumentContentMismatch(DocumentRefused):
    message = _l(
        "The content of a file is not what its name says (a JPEG, PNG or PDF). "
        "Please upload the original document."
    )


class TooManyDocuments(DocumentRefused):
    def __init__(self, max_files: int):
        super().__init__(_l("You can upload at most %(count)d files.", count=max_files))


@dataclass(frozen=True)
class Upload:
    """One uploaded file as the service sees it: no HTTP objects."""

    filename: str
    claimed_type: str
    data: bytes


@dataclass(frozen=True)
class CheckedDocument:
    filename: str  # cleaned, for display and Content-Disposition only
    content_type: str
    data: bytes


def check_upload(upload: Upload, *, max_bytes: int) -> CheckedDocument:
    """The upload if it is an allowed, non-empty file within the limit whose content matches
    its extension and claimed type; a DocumentRefused otherwise."""
    if not upload.data:
        raise DocumentEmpty()
    if len(upload.data) > max_bytes:
        raise DocumentTooLarge(max_bytes)
    extension = os.path.splitext(upload.filename.strip().lower())[1]
    content_type = EXTENSION_TYPES.get(extension)
    if content_type is None:
        raise DocumentTypeNotAllowed()
    claimed = upload.claimed_type.split(";")[0].strip().lower()
    if claimed not in LOOSE_CLAIMS and claimed != content_type:
        raise DocumentContentMismatch()
    if not upload.data.startswith(MAGIC[content_type]):
        raise DocumentContentMismatch()
    return CheckedDocument(display_name(upload.filename, extension), content_type, upload.data)


def display_name(filename: str, extension: str) -> str:
    """The uploaded name without any path or unsafe character, at most FILENAME_MAX long."""
    name = secure_filename(filename.replace("\\", "/").rsplit("/", 1)[-1]) or f"document{extension}"
    if len(name) > FILENAME_MAX:
        name = name[: FILENAME_MAX - len(extension)] + extension
    return name


def upload_dir(subdir: str = SUBDIR) -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / subdir


def store(data: bytes, subdir: str = SUBDIR) -> str:
    """Write ``data`` under a new random name (never overwriting); return that name.
    ``subdir``: the capability's own folder under UPLOAD_DIR (complaints keep theirs)."""
    directory = upload_dir(subdir)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = secrets.token_hex(16)
    fd = os.open(directory / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return name


def path_of(stored_name: str, subdir: str = SUBDIR) -> Path:
    """The file of a stored name (only names ``store`` makes; NotFound if missing)."""
    if not STORED_NAME.fullmatch(stored_name):
        raise NotFound()
    path = upload_dir(subdir) / stored_name
    if not path.is_file():
        raise NotFound()
    return path


def discard(stored_names: list[str], subdir: str = SUBDIR) -> None:
    """Remove files written for a transaction that did not commit."""
    for name in stored_names:
        if STORED_NAME.fullmatch(name):
            (upload_dir(subdir) / name).unlink(missing_ok=True)


# Forms that carry files: hardship documents, complaint attachments (same limits).
UPLOAD_ENDPOINTS = frozenset({"hardship.declare", "complaints.new", "complaints.reply"})


class UploadAwareRequest(Request):
    """The portal's request class: the hardship and complaint forms may carry their files
    (HARDSHIP_MAX_FILES x HARDSHIP_MAX_FILE_BYTES plus the fields) where every other request
    stays under MAX_CONTENT_LENGTH, whichever hook reads the form first (CSRF, input guard)."""

    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is None and self.endpoint in UPLOAD_ENDPOINTS:
            config = current_app.config
            return config["HARDSHIP_MAX_FILES"] * config["HARDSHIP_MAX_FILE_BYTES"] + 256 * 1024
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value
