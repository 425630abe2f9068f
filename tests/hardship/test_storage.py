"""What a hardship document may be: the extension, the claimed type and the first bytes agree;
not empty, not above the limit; stored under a random name, never the uploaded one."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.hardship import storage
from portal.hardship.storage import (
    DocumentContentMismatch,
    DocumentEmpty,
    DocumentTooLarge,
    DocumentTypeNotAllowed,
    Upload,
    check_upload,
)
from tests.hardship.conftest import JPEG, PDF, PNG

LIMIT = 1024


@pytest.mark.parametrize(
    ("name", "claimed", "data", "content_type"),
    [
        ("scan.pdf", "application/pdf", PDF, "application/pdf"),
        ("photo.JPG", "image/jpeg", JPEG, "image/jpeg"),
        ("photo.jpeg", "", JPEG, "image/jpeg"),
        ("shot.png", "application/octet-stream", PNG, "image/png"),
    ],
)
def test_matching_files_are_accepted(name, claimed, data, content_type):
    checked = check_upload(Upload(name, claimed, data), max_bytes=LIMIT)
    assert checked.content_type == content_type
    assert checked.data == data


@pytest.mark.parametrize(
    ("upload", "error"),
    [
        (Upload("empty.pdf", "application/pdf", b""), DocumentEmpty),
        (Upload("big.pdf", "application/pdf", PDF + b"x" * LIMIT), DocumentTooLarge),
        (Upload("evil.html", "text/html", b"<script>alert(1)</script>"), DocumentTypeNotAllowed),
        (Upload("noext", "application/pdf", PDF), DocumentTypeNotAllowed),
        (Upload("fake.pdf", "application/pdf", b"MZ\x90\x00 not a pdf"), DocumentContentMismatch),
        (Upload("fake.png", "image/png", JPEG), DocumentContentMismatch),
        (Upload("page.pdf", "text/html", PDF), DocumentContentMismatch),
        (Upload("x.pdf.exe", "application/pdf", PDF), DocumentTypeNotAllowed),
    ],
)
def test_hostile_files_are_refused(upload, error):
    with pytest.raises(error):
        check_upload(upload, max_bytes=LIMIT)


@pytest.mark.parametrize(
    "name",
    ["../../etc/passwd.pdf", "..\\..\\windows\\win.ini.pdf", "/abs/path/x.pdf", "a/../../b.pdf"],
)
def test_path_traversal_names_are_only_shown_cleaned(name):
    checked = check_upload(Upload(name, "application/pdf", PDF), max_bytes=LIMIT)
    assert "/" not in checked.filename
    assert "\\" not in checked.filename
    assert not checked.filename.startswith(".")


@given(st.text(max_size=300))
def test_any_name_gives_a_safe_short_display_name(name):
    shown = storage.display_name(name, ".pdf")
    assert shown
    assert len(shown) <= storage.FILENAME_MAX
    assert "/" not in shown
    assert "\\" not in shown
    assert not shown.startswith(".")


def test_stored_files_get_random_names_inside_the_upload_folder(app, uploads_in_tmp):
    with app.app_context():
        first = storage.store(PDF)
        second = storage.store(PDF)
        assert first != second
        assert storage.path_of(first).parent == uploads_in_tmp
        assert storage.path_of(first).read_bytes() == PDF


@pytest.mark.parametrize("name", ["../settle.db", "0" * 31, "A" * 32, "", "x/y"])
def test_only_names_store_makes_are_opened(app, name):
    from portal.domain import NotFound

    with app.app_context(), pytest.raises(NotFound):
        storage.path_of(name)
