"""The hardship pages: a borrower declares with a document and sees the decision; documents
reach only their borrower and staff who may open the case; hostile uploads are refused on the
form, in the borrower's language."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from portal.auth.models import Role
from portal.extensions import db
from portal.hardship.models import HardshipDocument, HardshipRequest
from tests.collections.conftest import make_case
from tests.conftest import csrf_token, login, page_text
from tests.hardship.conftest import PDF
from tests.messaging.conftest import install_defaults


def _declare(client, loan_id, files=(), reason="job_loss"):
    """Post the form; the body is built in memory (the test client would spool a big one to a
    temporary file it never closes)."""
    path = f"/loans/{loan_id}/hardship"
    values = MultiDict(
        [("reason", reason), ("details", "Lost my job."), ("csrf_token", csrf_token(client, path))]
    )
    for name, content, ctype in files:
        values.add("documents", FileStorage(io.BytesIO(content), name, content_type=ctype))
    boundary, body = encode_multipart(values)
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def _document_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(HardshipDocument.id))


def test_the_borrower_declares_with_a_pdf_and_opens_it(client, app, overdue, frozen):
    borrower, loan_id, _ = overdue
    login(client, borrower)
    assert f"/loans/{loan_id}/hardship" in client.get(f"/loans/{loan_id}").get_data(as_text=True)
    response = _declare(client, loan_id, [("../../../etc/letter.pdf", PDF, "application/pdf")])
    assert response.status_code == 303
    text = page_text(client.get(f"/loans/{loan_id}/hardship"))
    assert "Under review" in text
    assert "letter.pdf" in text
    document = client.get(f"/hardship/documents/{_document_id(app)}")
    assert document.status_code == 200
    assert document.data == PDF
    assert document.mimetype == "application/pdf"
    assert document.headers["Content-Disposition"].startswith("attachment")
    assert document.headers["X-Content-Type-Options"] == "nosniff"


def test_a_document_above_the_usual_form_limit_is_accepted(client, app, overdue, frozen):
    """Forms are limited to 1 MB; the hardship form takes its files' limit (5 MB each)."""
    borrower, loan_id, _ = overdue
    login(client, borrower)
    big = PDF + b"0" * (2 * 1024 * 1024)
    assert _declare(client, loan_id, [("scan.pdf", big, "application/pdf")]).status_code == 303


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("en", "The content of a file is not what its name says"), ("zh_CN", "文件内容与文件名")],
)
def test_a_file_that_is_not_what_it_says_is_refused_in_the_borrowers_language(
    client, app, make_user, make_loan, frozen, locale, expected
):
    borrower = make_user(Role.BORROWER, locale=locale)
    loan_id = make_loan(borrower.id)
    make_case(app, borrower_id=borrower.id, loan_id=loan_id, assigned_to=None)
    login(client, borrower)
    response = _declare(client, loan_id, [("cv.pdf", b"MZ\x90\x00binary", "application/pdf")])
    assert response.status_code == 422
    assert expected in page_text(response)
    with app.app_context():
        assert db.session.scalar(select(HardshipRequest.id)) is None


def test_an_oversized_or_empty_file_is_refused(client, app, overdue, frozen):
    borrower, loan_id, _ = overdue
    app.config["HARDSHIP_MAX_FILE_BYTES"] = 2048
    login(client, borrower)
    big = _declare(client, loan_id, [("scan.pdf", PDF + b"0" * 4096, "application/pdf")])
    assert big.status_code == 422
    assert "at most" in page_text(big)
    empty = _declare(client, loan_id, [("scan.pdf", b"", "application/pdf")])
    assert empty.status_code == 422


def test_another_borrower_reaches_neither_the_page_nor_the_document(
    client, app, overdue, make_user, frozen
):
    borrower, loan_id, _ = overdue
    login(client, borrower)
    _declare(client, loan_id, [("a.pdf", PDF, "application/pdf")])
    client.get("/logout")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, make_user(Role.BORROWER))
    assert client.get(f"/loans/{loan_id}/hardship").status_code == 404
    assert client.get(f"/hardship/documents/{_document_id(app)}").status_code == 404


@pytest.fixture
def declared(client, app, overdue, frozen):
    borrower, loan_id, case_id = overdue
    login(client, borrower)
    _declare(client, loan_id, [("a.pdf", PDF, "application/pdf")])
    client.cookie_jar.clear() if hasattr(client, "cookie_jar") else None
    return borrower, loan_id, case_id


def _fresh(app):
    return app.test_client()


def test_staff_open_documents_only_of_cases_they_may_open(app, declared, make_user):
    _, _, case_id = declared
    document_id = _document_id(app)
    other = _fresh(app)
    login(other, make_user(Role.COLLECTOR))
    assert other.get(f"/staff/hardship/documents/{document_id}").status_code == 403
    assigned = make_user(Role.COLLECTOR)
    with app.app_context():
        from portal.collections.models import CollectionCase

        db.session.get(CollectionCase, case_id).assigned_to = assigned.id
        db.session.commit()
    mine = _fresh(app)
    login(mine, assigned)
    assert mine.get(f"/staff/hardship/documents/{document_id}").status_code == 200
    assert mine.get("/staff/hardship/documents/999999").status_code == 404
    borrower_at_staff_url = _fresh(app)
    login(borrower_at_staff_url, declared[0])
    assert borrower_at_staff_url.get(f"/staff/hardship/documents/{document_id}").status_code == 403


def test_the_admin_decides_on_the_case_page_and_the_borrower_sees_it(app, declared, make_user):
    borrower, loan_id, case_id = declared
    with app.app_context():
        install_defaults(["hardship_decision"], "en")
        db.session.commit()
        request_id = db.session.scalar(select(HardshipRequest.id))
    admin = _fresh(app)
    login(admin, make_user(Role.ADMIN))
    case_path = f"/staff/collections/cases/{case_id}"
    page = admin.get(case_path).get_data(as_text=True)
    assert 'data-testid="hardship-decide-form"' in page
    assert 'data-testid="hold-expiry"' in page  # the review hold says when it lapses
    response = admin.post(
        f"/staff/hardship/{request_id}/decide",
        data={
            "hardship-decision": "pause",
            "hardship-pause_days": "30",
            "hardship-reason": "A month to recover.",
            "case_id": str(case_id),
            "hardship-csrf_token": csrf_token(admin, case_path),
        },
    )
    assert response.status_code == 303
    mine = _fresh(app)
    login(mine, borrower)
    text = page_text(mine.get(f"/loans/{loan_id}/hardship"))
    assert "Collection paused" in text
    assert "A month to recover." in text


def test_a_collector_cannot_decide(app, declared, make_user):
    _, _, case_id = declared
    with app.app_context():
        request_id = db.session.scalar(select(HardshipRequest.id))
    account = make_user(Role.COLLECTOR)
    with app.app_context():
        from portal.collections.models import CollectionCase

        db.session.get(CollectionCase, case_id).assigned_to = account.id
        db.session.commit()
    collector = _fresh(app)
    login(collector, account)
    case_path = f"/staff/collections/cases/{case_id}"
    page = collector.get(case_path).get_data(as_text=True)
    assert "hardship-decide-form" not in page
    assert "此申请由管理员作出决定" in page
    response = collector.post(
        f"/staff/hardship/{request_id}/decide",
        data={
            "hardship-decision": "no_change",
            "hardship-reason": "x",
            "csrf_token": csrf_token(collector, case_path),
        },
    )
    assert response.status_code == 403
