"""Declaring hardship: on the open case of the borrower's own loan, with checked documents;
the review hold pauses collection contact until a decision, at most HARDSHIP_HOLD_DAYS."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.auth.models import Role, User
from portal.domain import NotFound
from portal.extensions import db
from portal.hardship import storage
from portal.hardship.models import HardshipReason, HardshipRequest, HardshipStatus
from portal.hardship.services import (
    HardshipNoCase,
    HardshipPending,
    HardshipSettings,
    declare_hardship,
)
from portal.messaging.facts import load_borrower_contexts
from portal.messaging.models import ContactHold, HoldReason
from tests.collections.conftest import NOW
from tests.hardship.conftest import PDF, PNG

SETTINGS = HardshipSettings(hold_days=14, max_files=2, max_file_bytes=1024)


def _declare(borrower_id, loan_id, uploads=(), reason=HardshipReason.JOB_LOSS):
    return declare_hardship(
        loan_id,
        borrower=db.session.get(User, borrower_id),
        reason=reason,
        details="Lost my job in October.",
        uploads=list(uploads),
        now=NOW,
        settings=SETTINGS,
    )


def test_declaring_records_the_request_its_documents_and_a_lapsing_hold(
    app, overdue, uploads_in_tmp
):
    borrower, loan_id, case_id = overdue
    with app.app_context():
        request = _declare(
            borrower.id,
            loan_id,
            [
                storage.Upload("../../letter.pdf", "application/pdf", PDF),
                storage.Upload("id.png", "image/png", PNG),
            ],
        )
        db.session.commit()
        assert request.case_id == case_id
        assert request.status is HardshipStatus.PENDING
        assert [d.filename for d in request.documents] == ["letter.pdf", "id.png"]
        assert {p.name for p in uploads_in_tmp.iterdir()} == {
            d.stored_name for d in request.documents
        }
        hold = db.session.get(ContactHold, request.hold_id)
        assert hold.reason is HoldReason.HARDSHIP_REVIEW
        assert hold.expires_at == NOW + timedelta(days=14)


def test_the_hold_pauses_contact_until_it_lapses(app, overdue):
    borrower, loan_id, _ = overdue
    with app.app_context():
        _declare(borrower.id, loan_id)
        db.session.commit()
        during = load_borrower_contexts({borrower.id}, NOW + timedelta(days=13))
        after = load_borrower_contexts({borrower.id}, NOW + timedelta(days=14, seconds=1))
        assert during[borrower.id].open_holds == ("hardship_review",)
        assert after[borrower.id].open_holds == ()


def test_a_second_request_under_review_is_refused(app, overdue):
    borrower, loan_id, _ = overdue
    with app.app_context():
        _declare(borrower.id, loan_id)
        db.session.commit()
        with pytest.raises(HardshipPending):
            _declare(borrower.id, loan_id, reason=HardshipReason.ILLNESS)


def test_no_request_without_an_open_case(app, make_user, make_loan):
    borrower = make_user(Role.BORROWER)
    loan_id = make_loan(borrower.id)
    with app.app_context(), pytest.raises(HardshipNoCase):
        _declare(borrower.id, loan_id)


def test_no_request_on_another_borrowers_loan(app, overdue, make_user):
    _, loan_id, _ = overdue
    stranger = make_user(Role.BORROWER)
    with app.app_context(), pytest.raises(NotFound):
        _declare(stranger.id, loan_id)


@pytest.mark.parametrize(
    ("uploads", "error"),
    [
        ([storage.Upload("a.pdf", "application/pdf", PDF)] * 3, storage.TooManyDocuments),
        ([storage.Upload("a.pdf", "application/pdf", b"GIF89a")], storage.DocumentContentMismatch),
        ([storage.Upload("a.pdf", "application/pdf", PDF * 100)], storage.DocumentTooLarge),
    ],
)
def test_a_refused_document_keeps_nothing(app, overdue, uploads_in_tmp, uploads, error):
    borrower, loan_id, _ = overdue
    with app.app_context():
        with pytest.raises(error):
            _declare(borrower.id, loan_id, uploads)
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(HardshipRequest)) == 0
        assert db.session.scalar(select(func.count()).select_from(ContactHold)) == 0
        assert not uploads_in_tmp.exists() or not any(uploads_in_tmp.iterdir())
