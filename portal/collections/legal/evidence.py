"""The evidence for taking a case to the legal stage, and the checklist that says if it is enough.

Four items, each present or missing:

- ``loan_agreement``: the loan record (disbursement date, product, principal, rate, fees) and the
  borrower's account (when it was created). The portal keeps no separately signed document: the
  loan row and the borrower account are the agreement and consent record, and the page says so.
- ``statement_of_account``: the schedule, every payment and how each was allocated; present when
  there is a schedule and every payment is allocated in full.
- ``contact_history``: every message and call to the borrower, with the contact-rules guard's
  decisions; present when at least one contact was attempted (sent, delivered or tried and
  failed; a blocked message was never attempted) about this loan since the case reached stage 2.
- ``audit_chain``: the audit log verified intact (``verify_incrementally()``).

``assemble_evidence`` reads only; it loads a fixed number of queries per case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.audit.services import ChainVerification
from portal.auth.models import BorrowerProfile, User
from portal.collections.labels import EVIDENCE_ITEM_LABELS
from portal.collections.models import CaseTransition, CollectionCase
from portal.extensions import db
from portal.loans.models import Installment, Loan, Payment, PaymentAllocation
from portal.messaging.models import ContactDecisionRecord, Message, MessageStatus
from portal.timeutil import local_today

ITEMS = ("loan_agreement", "statement_of_account", "contact_history", "audit_chain")
ITEM_LABELS = EVIDENCE_ITEM_LABELS
ATTEMPTED = (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.FAILED, MessageStatus.DEAD)


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    present: bool
    facts: dict  # JSON-safe values: shown on the page and stored with the request

    @property
    def label(self):
        return ITEM_LABELS[self.key]


@dataclass
class Evidence:
    """Everything the system holds about one case, loaded at ``assembled_at``."""

    case: CollectionCase
    loan: Loan
    borrower: User
    profile: BorrowerProfile
    payments: list[Payment]
    messages: list[Message]
    decisions: list[ContactDecisionRecord]
    verification: ChainVerification
    contact_since: date  # the local date the case first reached stage 2 or 3
    assembled_at: datetime

    @property
    def installments(self) -> list[Installment]:
        return self.loan.installments

    def contact_attempts(self) -> list[Message]:
        """Attempted contacts with the borrower about this loan since ``contact_since``."""
        zone = current_app.config["DEFAULT_TIMEZONE"]
        return [
            m
            for m in self.messages
            if m.status in ATTEMPTED
            and m.emergency_contact_id is None
            and m.loan_id in (None, self.loan.id)
            and local_today(zone, m.created_at) >= self.contact_since
        ]

    def unallocated_payments(self) -> list[int]:
        """Ids of payments whose allocations do not add up to the amount paid."""
        return [
            p.id
            for p in self.payments
            if sum(a.amount_minor for a in p.allocations) != p.amount_minor
        ]

    def checklist(self) -> list[ChecklistItem]:
        loan, attempts = self.loan, self.contact_attempts()
        unallocated = self.unallocated_payments()
        return [
            ChecklistItem(
                "loan_agreement",
                loan.disbursed_on is not None and self.borrower.created_at is not None,
                {
                    "loan_reference": loan.reference,
                    "product": loan.product.value,
                    "disbursed_on": loan.disbursed_on.isoformat(),
                    "principal_minor": loan.principal_minor,
                    "interest_rate_bps": loan.interest_rate_bps,
                    "fees_minor": loan.fees_minor,
                    "currency": loan.currency,
                    "account_created_at": self.borrower.created_at.isoformat(),
                },
            ),
            ChecklistItem(
                "statement_of_account",
                bool(self.installments) and not unallocated,
                {
                    "installments": len(self.installments),
                    "payments": len(self.payments),
                    "allocations": sum(len(p.allocations) for p in self.payments),
                    "unallocated_payments": unallocated,
                },
            ),
            ChecklistItem(
                "contact_history",
                bool(attempts),
                {
                    "messages": len(self.messages),
                    "guard_decisions": len(self.decisions),
                    "attempts_since_stage_2": len(attempts),
                    "since": self.contact_since.isoformat(),
                    "last_attempt_at": attempts[-1].created_at.isoformat() if attempts else None,
                },
            ),
            ChecklistItem("audit_chain", self.verification.intact, self.verification.as_dict()),
        ]

    def missing(self) -> list[ChecklistItem]:
        return [item for item in self.checklist() if not item.present]

    def checklist_json(self) -> dict:
        """The checklist as stored on a LegalRequest."""
        return {
            "assembled_at": self.assembled_at.isoformat(),
            "items": {
                item.key: {"present": item.present, **item.facts} for item in self.checklist()
            },
        }


def contact_since(case: CollectionCase) -> date:
    """The run date on which the case first reached stage 2 or 3 (its opening date if none)."""
    first = db.session.scalar(
        select(CaseTransition.run_on)
        .where(
            CaseTransition.case_id == case.id,
            CaseTransition.kind.in_(("opened", "stage")),
            CaseTransition.to_stage.in_((2, 3)),
        )
        .order_by(CaseTransition.run_on, CaseTransition.id)
        .limit(1)
    )
    return first or case.opened_on


def assemble_evidence(
    case: CollectionCase, verification: ChainVerification, *, now: datetime
) -> Evidence:
    """Load the evidence for ``case``. ``verification`` comes from ``verify_incrementally()``
    (or ``verify_chain()``), run after the caller found the case the actor may open."""
    loan = db.session.scalar(
        select(Loan).where(Loan.id == case.loan_id).options(selectinload(Loan.installments))
    )
    borrower = db.session.get(User, case.borrower_id)
    profile = db.session.get(BorrowerProfile, case.borrower_id)
    if loan is None or borrower is None or profile is None:  # foreign keys make this impossible
        raise LookupError(f"case {case.id} has lost its loan or borrower")
    payments = list(
        db.session.scalars(
            select(Payment)
            .where(Payment.loan_id == loan.id)
            .options(selectinload(Payment.allocations).selectinload(PaymentAllocation.installment))
            .order_by(Payment.received_at, Payment.id)
        )
    )
    messages = list(
        db.session.scalars(
            select(Message)
            .where(Message.borrower_id == case.borrower_id)
            .order_by(Message.created_at, Message.id)
        )
    )
    decisions = list(
        db.session.scalars(
            select(ContactDecisionRecord)
            .where(ContactDecisionRecord.borrower_id == case.borrower_id)
            .order_by(ContactDecisionRecord.decided_at, ContactDecisionRecord.id)
        )
    )
    return Evidence(
        case=case,
        loan=loan,
        borrower=borrower,
        profile=profile,
        payments=payments,
        messages=messages,
        decisions=decisions,
        verification=verification,
        contact_since=contact_since(case),
        assembled_at=now,
    )
