"""Hardship fixtures: a borrower with an overdue loan (open case), uploads kept in a temporary
folder, small valid and hostile files, and the routes' clock."""

from __future__ import annotations

import pytest

from portal.auth.models import Role
from tests.collections.conftest import NOW, make_case

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


@pytest.fixture(autouse=True)
def uploads_in_tmp(app, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    return tmp_path / "uploads" / "hardship"


@pytest.fixture
def frozen(monkeypatch):
    """The hardship and case pages see NOW as the current time."""
    from portal.collections.cases import page, routes
    from portal.hardship import routes as hardship_routes

    for module in (page, routes, hardship_routes):
        monkeypatch.setattr(module, "utcnow", lambda: NOW)


@pytest.fixture
def overdue(app, make_user, make_loan):
    """(borrower account, loan id, case id) of a borrower with an open case."""
    borrower = make_user(Role.BORROWER, locale="en")
    loan_id = make_loan(borrower.id)
    case_id = make_case(app, borrower_id=borrower.id, loan_id=loan_id, assigned_to=None)
    return borrower, loan_id, case_id
