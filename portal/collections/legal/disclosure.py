"""The evidence bundle: frozen when a legal request is approved, handed over as a disclosure.

The ZIP holds the borrower's personal data in full (name, email, phone, customer number,
payments, contact history), so it leaves the portal only:

- for a case with an approved legal request, to staff who may open the case: the bundle frozen
  at approval (``freeze_bundle``), byte for byte, whose manifest SHA-256 is the request's
  ``bundle_sha256``; whatever happens to the case afterwards, this is what was approved;
- to an admin before any approval (to review the evidence), built from today's data and not
  kept: it approves nothing.

Every hand-over is a POST (a CSRF-protected button; a link on another site cannot cause it) and
is audited as ``legal.pii_disclosed``: who, when, why (the legal request), which personal data
and which bundle. Viewing the legal pages changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from portal.audit.services import record as audit
from portal.audit.services import verify_incrementally
from portal.collections.cases.access import authorized_case
from portal.collections.legal.access import Actor
from portal.collections.legal.bundle import Bundle, build_bundle, read_bundle
from portal.collections.legal.errors import BundleNotApproved
from portal.collections.legal.evidence import Evidence, assemble_evidence
from portal.collections.legal.letters import approved_request
from portal.collections.models import CollectionCase, LegalRequest
from portal.extensions import db

# What personal data of the borrower a bundle discloses (recorded with each disclosure).
PERSONAL_DATA = (
    "borrower.name",
    "borrower.email",
    "borrower.phone",
    "borrower.customer_number",
    "borrower.timezone",
    "payments",
    "contact_history",
)


def freeze_bundle(request: LegalRequest, evidence: Evidence, *, actor_id: int, now: datetime):
    """Build the bundle of the evidence an approval rests on and keep it on ``request``, with
    its manifest's SHA-256 in ``bundle_sha256``. Flushes nothing: the caller's flush does."""
    bundle = build_bundle(
        evidence, letter_pdf=None, legal_request_id=request.id, actor_id=actor_id, now=now
    )
    request.bundle_zip, request.bundle_sha256 = bundle.content, bundle.manifest_sha256
    return bundle


def _latest_request_id(case: CollectionCase) -> int | None:
    return db.session.scalar(
        select(LegalRequest.id)
        .where(LegalRequest.case_id == case.id)
        .order_by(LegalRequest.id.desc())
        .limit(1)
    )


def disclose_bundle(case_id: int, *, actor: Actor, now: datetime, ip_address: str | None) -> Bundle:
    """The evidence bundle of a case ``actor`` may open, audited as ``legal.pii_disclosed``.

    With an approved request: the bundle frozen at approval (a request approved before bundles
    were kept is frozen now, once, and the audit says so). Without one: an admin gets a review
    copy from today's data; anyone else BundleNotApproved (409). Also raises CaseNotFound and
    CaseOfAnotherCollector. Flushes.
    """
    case = authorized_case(case_id, actor)
    request = approved_request(case)
    frozen_now = False
    if request is not None and request.bundle_zip is not None:
        bundle = read_bundle(request.bundle_zip)
    elif request is not None or actor.is_admin:
        evidence = assemble_evidence(case, verify_incrementally(), now=now)
        if request is not None:  # approved before approvals froze their bundle
            bundle, frozen_now = freeze_bundle(request, evidence, actor_id=actor.id, now=now), True
        else:
            bundle = build_bundle(
                evidence,
                letter_pdf=None,
                legal_request_id=_latest_request_id(case),
                actor_id=actor.id,
                now=now,
            )
    else:
        raise BundleNotApproved()
    db.session.flush()
    audit(
        "legal.pii_disclosed",
        now=now,
        actor_id=actor.id,
        object_type="collection_case",
        object_id=case.id,
        details={
            "disclosure": True,
            "document": "evidence_bundle",
            "personal_data": list(PERSONAL_DATA),
            "legal_request_id": request.id if request else bundle.manifest["legal_request_id"],
            "approved": request is not None,
            "frozen_at_download": frozen_now,
            "manifest_sha256": bundle.manifest_sha256,
            "files": [f["name"] for f in bundle.manifest["files"]],
        },
        ip_address=ip_address,
    )
    return bundle
