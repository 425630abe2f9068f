"""The evidence bundle leaves the portal only once approved (or to an admin), as the ZIP the
approval froze, by a CSRF-protected POST audited as a disclosure of personal data."""

from __future__ import annotations

import hashlib
import io
import zipfile

from portal.extensions import db
from portal.loans.models import PaymentMethod
from portal.loans.services import record_payment
from tests.collections.legal.conftest import (
    NOW,
    approved_case,
    download,
    events,
    new_admin,
    only_request,
    open_case,
    request_approval,
    signed_in,
)
from tests.conftest import page_text


def _manifest_digest(content: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return hashlib.sha256(archive.read("manifest.json")).hexdigest()


def test_a_collector_cannot_download_before_approval(app, make_user, make_loan):
    """Before an admin approves, the collector's POST is refused on the legal page; nothing is
    disclosed, audited or stored."""
    case = open_case(app, make_user, make_loan)
    client = signed_in(app, case.collector)
    page = client.get(case.url()).get_data(as_text=True)
    assert 'data-testid="bundle-form"' not in page
    assert 'data-testid="bundle-unavailable"' in page
    response = download(client, case)
    assert response.status_code == 409
    assert response.mimetype == "text/html"
    assert "once an admin has approved a legal request" in page_text(response)
    assert request_approval(client, case).status_code == 303  # pending is not approved
    assert download(client, case).status_code == 409
    with app.app_context():
        assert events("legal.pii_disclosed") == []
        assert events("legal.bundle_downloaded") == []
        assert only_request(case.case_id).bundle_sha256 is None


def test_a_cross_site_request_changes_nothing(app, make_user, make_loan):
    """A link (GET) or a forged form (POST without the token) neither downloads, nor rewrites
    the approved hash, nor writes an audit row."""
    case, _admin_client, _admin = approved_case(app, make_user, make_loan)
    client = signed_in(app, case.collector)
    with app.app_context():
        approved_hash = only_request(case.case_id).bundle_sha256
        audit_rows = len(events("legal.pii_disclosed")) + len(events("legal.bundle_downloaded"))
    assert client.get(case.url("bundle.zip")).status_code == 405
    assert client.post(case.url("bundle.zip")).status_code == 400
    with app.app_context():
        assert only_request(case.case_id).bundle_sha256 == approved_hash
        assert audit_rows == 0
        assert events("legal.pii_disclosed") == events("legal.bundle_downloaded") == []


def test_the_approved_bundle_is_frozen_at_approval(app, make_user, make_loan):
    """Approval keeps the ZIP and its manifest hash; every later download hands over exactly
    those bytes, even after a payment changed the account."""
    case, admin_client, _admin = approved_case(app, make_user, make_loan)
    with app.app_context():
        request = only_request(case.case_id)
        approved_hash, kept = request.bundle_sha256, request.bundle_zip
        [approval] = events("legal.approved")
        assert approval.details["bundle_sha256"] == approved_hash
    assert approved_hash is not None
    assert kept is not None
    assert _manifest_digest(kept) == approved_hash
    first = download(signed_in(app, case.collector), case)
    with app.app_context():
        record_payment(
            loan_id=case.loan_id,
            amount_minor=10_000,
            currency="CNY",
            method=PaymentMethod.ALIPAY,
            received_at=NOW,
        )
        db.session.commit()
    second = download(admin_client, case)
    assert first.status_code == second.status_code == 200
    assert first.data == second.data == kept
    assert first.headers["X-Manifest-SHA256"] == approved_hash
    with app.app_context():
        assert only_request(case.case_id).bundle_sha256 == approved_hash


def test_an_admin_may_review_the_bundle_before_approval(app, make_user, make_loan):
    """An admin downloads a review copy of a pending request's evidence; it is not kept and
    the request's hash stays empty until approval."""
    case = open_case(app, make_user, make_loan)
    assert request_approval(signed_in(app, case.collector), case).status_code == 303
    admin_client, _admin = new_admin(app, make_user)
    assert 'data-testid="bundle-form"' in admin_client.get(case.url()).get_data(as_text=True)
    response = download(admin_client, case)
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    with app.app_context():
        request = only_request(case.case_id)
        assert (request.bundle_sha256, request.bundle_zip) == (None, None)
        [event] = events("legal.pii_disclosed")
        assert event.details["approved"] is False
        assert event.details["legal_request_id"] == request.id


def test_each_download_is_audited_as_a_disclosure(app, make_user, make_loan):
    """Who, when, why (the approved request), which personal data and which bundle."""
    case, _admin_client, _admin = approved_case(app, make_user, make_loan)
    client = signed_in(app, case.collector)
    assert download(client, case).status_code == 200
    assert download(client, case).status_code == 200
    with app.app_context():
        request = only_request(case.case_id)
        first, second = events("legal.pii_disclosed")
        for event in (first, second):
            assert event.actor_id == case.collector.id
            assert (event.object_type, event.object_id) == ("collection_case", str(case.case_id))
            assert event.occurred_at is not None
            assert event.details["disclosure"] is True
            assert event.details["legal_request_id"] == request.id
            assert event.details["approved"] is True
            assert {"borrower.email", "borrower.phone"} <= set(event.details["personal_data"])
            assert event.details["manifest_sha256"] == request.bundle_sha256
