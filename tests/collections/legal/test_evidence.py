"""The evidence checklist and the evidence bundle: files, hashes, contents, and what counts as a
contact attempt."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime

from sqlalchemy import select, update

from portal.audit.models import AuditChainHead
from portal.audit.services import verify_chain
from portal.auth.models import Channel, Role
from portal.collections.legal.evidence import assemble_evidence
from portal.collections.models import CollectionCase
from portal.extensions import db
from portal.loans.models import PaymentMethod
from portal.loans.services import record_payment
from portal.messaging.calls import log_call
from portal.messaging.models import CallOutcome, ContactKind, Message, MessageStatus
from tests.collections.legal.conftest import (
    NOW,
    approved_case,
    download,
    events,
    new_admin,
    only_request,
    open_case,
    post,
    request_approval,
    signed_in,
)

BASE_FILES = {
    "statement_of_account.csv",
    "loan_agreement.json",
    "contact_history.csv",
    "audit_verification.json",
}


def _unzip(response) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _csv(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def _check_manifest(files: dict[str, bytes]) -> dict:
    """Recompute every listed file's SHA-256 and size and compare them with the manifest."""
    manifest = json.loads(files["manifest.json"])
    listed = {entry["name"]: entry for entry in manifest["files"]}
    assert set(listed) == set(files) - {"manifest.json"}
    for name, data in files.items():
        if name == "manifest.json":
            continue
        assert listed[name]["sha256"] == hashlib.sha256(data).hexdigest(), name
        assert listed[name]["size"] == len(data), name
    return manifest


def test_bundle_files_match_their_manifest(app, make_user, make_loan):
    """Every file's hash and size match the manifest, kept on the request and audited."""
    case, _admin_client, _admin = approved_case(app, make_user, make_loan)
    client = signed_in(app, case.collector)
    response = download(client, case)
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    files = _unzip(response)
    assert set(files) == BASE_FILES | {"manifest.json"}
    manifest = _check_manifest(files)
    assert (manifest["case_id"], manifest["loan_id"]) == (case.case_id, case.loan_id)
    assert datetime.fromisoformat(manifest["generated_at"]).tzinfo is not None
    digest = hashlib.sha256(files["manifest.json"]).hexdigest()
    assert response.headers["X-Manifest-SHA256"] == digest
    with app.app_context():
        request = only_request(case.case_id)
        assert manifest["legal_request_id"] == request.id
        assert request.bundle_sha256 == digest
        [event] = events("legal.pii_disclosed")
        assert event.actor_id == case.collector.id
        assert event.details["manifest_sha256"] == digest


def test_statement_lists_schedule_payments_and_allocations(app, make_user, make_loan):
    """Every installment, the payment, its allocations (fee, interest, principal) and totals."""
    case = open_case(app, make_user, make_loan)
    with app.app_context():
        payment = record_payment(
            loan_id=case.loan_id,
            amount_minor=10_000,
            currency="CNY",
            method=PaymentMethod.ALIPAY,
            received_at=NOW,
            external_reference="pi_123",
        )
        db.session.commit()
        payment_id = payment.id
    rows = _csv(_unzip(download(new_admin(app, make_user)[0], case))["statement_of_account.csv"])
    assert [r["installment"] for r in rows if r["record"] == "installment"] == list("123456")
    assert rows[0]["due_date"] == "2026-07-15"
    assert (rows[0]["principal_due"], rows[0]["fee_due"]) == ("500.00", "30.00")
    [paid] = [r for r in rows if r["record"] == "payment"]
    assert (paid["payment_id"], paid["amount"], paid["method"]) == (
        str(payment_id),
        "100.00",
        "alipay",
    )
    assert paid["received_at_utc"] == "2026-11-28T02:00:00+00:00"
    assert paid["received_at_local"] == "2026-11-28T10:00:00+08:00"
    assert paid["processor_reference"] == "pi_123"
    allocations = [(r["component"], r["amount"]) for r in rows if r["record"] == "allocation"]
    assert allocations == [("fee", "30.00"), ("interest", "60.00"), ("principal", "10.00")]
    [total] = [r for r in rows if r["record"] == "total"]
    assert (total["amount"], total["principal_paid"]) == ("100.00", "10.00")


def test_contact_history_has_both_times_and_the_guard_decisions(app, make_user, make_loan):
    """Messages with UTC and local times; guard decisions with rule and rulebook version."""
    case = open_case(app, make_user, make_loan)
    files = _unzip(download(new_admin(app, make_user)[0], case))
    rows = _csv(files["contact_history.csv"])
    messages = [r for r in rows if r["entry"] == "message"]
    assert {r["channel"] for r in messages} == {"portal", "sms", "email"}
    portal = next(r for r in messages if r["channel"] == "portal")
    assert (portal["time_utc"], portal["time_local"]) == (
        "2026-11-28T02:00:00+00:00",
        "2026-11-28T10:00:00+08:00",
    )
    assert (portal["purpose"], portal["status"]) == ("overdue_stage_2", "sent")
    decisions = [r for r in rows if r["entry"] == "guard_decision"]
    assert {r["message_id"] for r in decisions} >= {r["message_id"] for r in messages}
    assert all(
        r["rule"] and r["rulebook"] == "CN" and r["rulebook_version"] == "0" for r in decisions
    )


def test_loan_agreement_and_audit_verification_files(app, make_user, make_loan):
    """The loan and account as the agreement record; the chain check as verify_chain() says."""
    case = open_case(app, make_user, make_loan)
    files = _unzip(download(new_admin(app, make_user)[0], case))
    agreement = json.loads(files["loan_agreement.json"])
    assert agreement["loan"]["principal"] == "3000.00"
    assert agreement["loan"]["annual_interest_rate_bps"] == 2400
    assert agreement["loan"]["fees"] == "30.00"
    assert agreement["loan"]["disbursed_on"] == "2026-06-15"
    assert agreement["borrower"]["name"] == "Wang Fang"
    assert agreement["borrower"]["account_created_at"]
    assert "agreement and consent record" in agreement["note"]
    verification = json.loads(files["audit_verification.json"])
    assert verification["intact"] is True
    with app.app_context():
        # The download itself appended one event after the file was written.
        assert verification["events_checked"] == verify_chain().events_checked - 1


def test_the_approved_bundle_stays_the_same_after_the_letter(app, make_user, make_loan):
    """The bundle is the one the approval froze: writing the letter later does not change it."""
    case, client, _admin = approved_case(app, make_user, make_loan)
    before = download(client, case).data
    assert post(client, case.url("letter"), {}, form_page=case.url()).status_code == 303
    after = download(client, case).data
    assert after == before
    assert "lawyer_letter.pdf" not in _unzip(download(client, case))
    _check_manifest(_unzip(download(client, case)))


def test_a_broken_audit_chain_is_a_missing_item(app, make_user, make_loan):
    """A truncated audit log shows as missing on the page and blocks the request."""
    case = open_case(app, make_user, make_loan)
    with app.app_context():
        db.session.execute(update(AuditChainHead).values(sequence=AuditChainHead.sequence + 1))
        db.session.commit()
    client = signed_in(app, case.collector)
    html = client.get(case.url()).get_data(as_text=True)
    assert 'data-testid="item-audit_chain" data-present="no"' in html
    assert "The audit log is broken at event" in html
    response = request_approval(client, case)
    assert response.status_code == 422
    assert "Missing: Audit log verification" in response.get_data(as_text=True)


def _checklist(case_id: int) -> dict[str, bool]:
    verification = verify_chain()
    case = db.session.get(CollectionCase, case_id)
    evidence = assemble_evidence(case, verification, now=NOW)
    return {item.key: item.present for item in evidence.checklist()}


def test_only_attempted_contacts_since_stage_2_count(app, make_user, make_loan):
    """A blocked message and a message from before stage 2 are not attempts; a logged call is."""
    case = open_case(app, make_user, make_loan, contacted=False)
    collector = make_user(Role.COLLECTOR)
    with app.app_context():
        common = {
            "borrower_id": case.borrower.id,
            "loan_id": case.loan_id,
            "kind": ContactKind.COLLECTION,
            "channel": Channel.EMAIL,
            "locale": "en",
            "purpose": "overdue_stage_1",
        }
        db.session.add_all(
            [
                Message(
                    idempotency_key="early",
                    status=MessageStatus.SENT,
                    not_before=datetime(2026, 7, 20, tzinfo=UTC),
                    created_at=datetime(2026, 7, 20, tzinfo=UTC),
                    **common,
                ),
                Message(
                    idempotency_key="blocked",
                    status=MessageStatus.BLOCKED,
                    blocked_rule="channel_opted_out",
                    not_before=NOW,
                    created_at=NOW,
                    **common,
                ),
            ]
        )
        db.session.commit()
        assert _checklist(case.case_id)["contact_history"] is False
        log_call(
            case.borrower.id,
            outcome=CallOutcome.NO_ANSWER,
            now=NOW,
            actor_id=collector.id,
            loan_id=case.loan_id,
        )
        db.session.commit()
        assert _checklist(case.case_id) == {
            "loan_agreement": True,
            "statement_of_account": True,
            "contact_history": True,
            "audit_chain": True,
        }


def test_bundle_of_an_unknown_case_is_not_found(app, make_user):
    """An admin asking for a case that does not exist gets 404 and nothing is audited."""
    client = signed_in(app, make_user(Role.ADMIN, locale="en"))
    response = post(
        client,
        "/staff/collections/cases/424242/legal/bundle.zip",
        {},
        form_page="/staff/collections/legal/requests",
    )
    assert response.status_code == 404
    with app.app_context():
        assert events("legal.pii_disclosed") == []
        assert db.session.scalars(select(CollectionCase)).all() == []
