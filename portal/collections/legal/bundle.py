"""The evidence bundle: one ZIP a lawyer can check file by file against its manifest.

Files: ``statement_of_account.csv``, ``loan_agreement.json``, ``contact_history.csv``,
``audit_verification.json``, ``lawyer_letter.pdf`` (when one is given: the approved bundle is
frozen before any letter exists, and the letter is its own document) and ``manifest.json``,
which lists every other file with its SHA-256 and size, plus the case and loan ids and the
generation time. The manifest's own SHA-256 identifies the bundle.

A legal request's bundle is built once, when it is approved, and kept (``read_bundle`` gives it
back byte for byte): a bundle rebuilt later would hold the data of that later day.

CSV files are written by ``portal.csvexport`` (UTF-8 with a byte-order mark, cells that cannot
run as formulas); their column names are stable identifiers, not translated. Amounts are decimal
strings in the currency's major unit; times are ISO 8601, in UTC and in the borrower's zone.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from portal.collections.legal.evidence import Evidence
from portal.csvexport import csv_bytes
from portal.money import Money

FORMAT_VERSION = 1
PARTS = ("principal", "interest", "fee")


@dataclass(frozen=True)
class Bundle:
    filename: str
    content: bytes
    manifest_sha256: str
    manifest: dict


def _amount(minor: int, currency: str) -> str:
    return str(Money(minor, currency).decimal)


def _utc(moment: datetime | None) -> str:
    return moment.astimezone(UTC).isoformat() if moment else ""


def _local(moment: datetime | None, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).isoformat() if moment else ""


STATEMENT_HEADER = [
    "record",
    "installment",
    "due_date",
    "principal_due",
    "interest_due",
    "fee_due",
    "principal_paid",
    "interest_paid",
    "fee_paid",
    "outstanding",
    "payment_id",
    "received_at_utc",
    "received_at_local",
    "method",
    "processor_reference",
    "component",
    "amount",
    "currency",
]


def statement_rows(evidence: Evidence) -> list[list]:
    """The schedule, then each payment followed by its allocations, then the totals."""
    currency, zone = evidence.loan.currency, ZoneInfo(evidence.borrower.timezone)

    def money(minor: int) -> str:
        return _amount(minor, currency)

    rows: list[list] = []
    for i in evidence.installments:
        rows.append(
            ["installment", i.sequence, i.due_date.isoformat()]
            + [money(v) for v in (i.principal_due, i.interest_due, i.fee_due)]
            + [money(v) for v in (i.principal_paid, i.interest_paid, i.fee_paid)]
            + [money(i.outstanding), "", "", "", "", "", "", "", currency]
        )
    for p in evidence.payments:
        rows.append(
            ["payment", "", "", "", "", "", "", "", "", "", p.id, _utc(p.received_at)]
            + [_local(p.received_at, zone), p.method.value, p.external_reference or "", ""]
            + [money(p.amount_minor), currency]
        )
        for a in sorted(p.allocations, key=lambda a: (a.installment.sequence, a.id)):
            rows.append(
                ["allocation", a.installment.sequence, a.installment.due_date.isoformat()]
                + ["", "", "", "", "", "", "", p.id, "", "", "", "", a.component.value]
                + [money(a.amount_minor), currency]
            )
    items = evidence.installments
    rows.append(
        ["total", "", ""]
        + [money(sum(getattr(i, f"{part}_due") for i in items)) for part in PARTS]
        + [money(sum(getattr(i, f"{part}_paid") for i in items)) for part in PARTS]
        + [money(sum(i.outstanding for i in items)), "", "", "", "", "", ""]
        + [money(sum(p.amount_minor for p in evidence.payments)), currency]
    )
    return rows


CONTACT_HEADER = [
    "entry",
    "message_id",
    "time_utc",
    "time_local",
    "channel",
    "purpose",
    "kind",
    "recipient",
    "status",
    "sent_at_utc",
    "call_outcome",
    "blocked_rule",
    "template_version_id",
    "guard_outcome",
    "rule",
    "rulebook",
    "rulebook_version",
    "not_before_utc",
    "staff_id",
]


def contact_rows(evidence: Evidence) -> list[list]:
    """Every message and call, and every guard decision, in time order (UTC and local)."""
    zone = ZoneInfo(evidence.borrower.timezone)
    entries: list[tuple[datetime, int, int, list]] = []
    for m in evidence.messages:
        recipient = "emergency_contact" if m.emergency_contact_id else "borrower"
        row = ["message", m.id, _utc(m.created_at), _local(m.created_at, zone), m.channel.value]
        row += [m.purpose, m.kind.value, recipient, m.status.value, _utc(m.sent_at)]
        row += [m.call_outcome.value if m.call_outcome else "", m.blocked_rule or ""]
        row += [m.template_version_id or "", "", "", "", "", "", m.created_by or ""]
        entries.append((m.created_at, 0, m.id, row))
    for d in evidence.decisions:
        row = ["guard_decision", d.message_id or "", _utc(d.decided_at)]
        row += [_local(d.decided_at, zone), d.channel.value, "", d.kind.value, "", "", "", ""]
        row += ["", "", d.outcome, d.rule, d.rulebook, d.rulebook_version, _utc(d.not_before)]
        row += [d.decided_by or ""]
        entries.append((d.decided_at, 1, d.id, row))
    return [row for *_key, row in sorted(entries, key=lambda e: e[:3])]


def loan_agreement(evidence: Evidence) -> dict:
    loan, borrower, profile = evidence.loan, evidence.borrower, evidence.profile
    return {
        "record": "loan_agreement_and_consent",
        "note": _(
            "Settle keeps no separately signed agreement document. The loan record and the "
            "borrower's account below are the agreement and consent record."
        ),
        "loan": {
            "id": loan.id,
            "reference": loan.reference,
            "product": loan.product.value,
            "disbursed_on": loan.disbursed_on.isoformat(),
            "principal": _amount(loan.principal_minor, loan.currency),
            "annual_interest_rate_bps": loan.interest_rate_bps,
            "fees": _amount(loan.fees_minor, loan.currency),
            "currency": loan.currency,
            "installments": len(evidence.installments),
            "recorded_at": _utc(loan.created_at),
            "status": loan.status.value,
        },
        "borrower": {
            "id": borrower.id,
            "customer_number": profile.customer_number,
            "name": borrower.name,
            "email": borrower.email,
            "phone": profile.phone,
            "timezone": borrower.timezone,
            "account_created_at": _utc(borrower.created_at),
        },
    }


def _json_bytes(data: dict) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")


def build_bundle(
    evidence: Evidence,
    *,
    letter_pdf: bytes | None,
    legal_request_id: int | None,
    actor_id: int,
    now: datetime,
) -> Bundle:
    """Write the ZIP in memory (one case's data is small) and return it with its manifest."""
    files: list[tuple[str, bytes]] = [
        ("statement_of_account.csv", csv_bytes(STATEMENT_HEADER, statement_rows(evidence))),
        ("loan_agreement.json", _json_bytes(loan_agreement(evidence))),
        ("contact_history.csv", csv_bytes(CONTACT_HEADER, contact_rows(evidence))),
        ("audit_verification.json", _json_bytes(evidence.verification.as_dict())),
    ]
    if letter_pdf is not None:
        files.append(("lawyer_letter.pdf", letter_pdf))
    case = evidence.case
    manifest = {
        "format": FORMAT_VERSION,
        "case_id": case.id,
        "loan_id": evidence.loan.id,
        "loan_reference": evidence.loan.reference,
        "legal_request_id": legal_request_id,
        "generated_at": _utc(now),
        "generated_by": actor_id,
        "files": [
            {"name": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            for name, data in files
        ],
    }
    manifest_bytes = _json_bytes(manifest)
    files.append(("manifest.json", manifest_bytes))
    stamp = now.astimezone(UTC).timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            archive.writestr(zipfile.ZipInfo(name, date_time=stamp), data, zipfile.ZIP_DEFLATED)
    return Bundle(
        filename=f"evidence-case-{case.id}-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}.zip",
        content=buffer.getvalue(),
        manifest_sha256=hashlib.sha256(manifest_bytes).hexdigest(),
        manifest=manifest,
    )


def read_bundle(content: bytes) -> Bundle:
    """A bundle kept as bytes, with its manifest and download name read back from the ZIP."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        manifest_bytes = archive.read("manifest.json")
    manifest = json.loads(manifest_bytes)
    generated = datetime.fromisoformat(manifest["generated_at"]).astimezone(UTC)
    return Bundle(
        filename=f"evidence-case-{manifest['case_id']}-{generated:%Y%m%dT%H%M%SZ}.zip",
        content=content,
        manifest_sha256=hashlib.sha256(manifest_bytes).hexdigest(),
        manifest=manifest,
    )
