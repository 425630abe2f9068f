"""The case page's header and borrower profile: loans with positions, contact data masked.

Phone and email, and the phone numbers of the borrower's emergency contacts, are shown masked;
``reveal_contact`` returns one of them in full and audits who saw which, so personal data is only
read on purpose and on the record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import aliased, selectinload

from portal.audit.services import record as audit
from portal.auth.models import BorrowerProfile, User
from portal.collections.cases.access import authorized_case
from portal.collections.metrics import last_contact_at
from portal.collections.models import CollectionCase
from portal.domain import DomainError
from portal.extensions import db
from portal.loans.models import Loan
from portal.loans.services import LoanPosition, loan_position
from portal.messaging.emergency_contacts.services import active_contact, active_contacts
from portal.messaging.models import EmergencyContact
from portal.pii import mask_email, mask_phone
from portal.timeutil import local_today

REVEALABLE = ("phone", "email")
# "emergency_phone:<id>" reveals the number of one of the borrower's emergency contacts.
EMERGENCY_PHONE = "emergency_phone:"


class UnknownField(DomainError):
    status_code = 422


@dataclass(frozen=True)
class LoanView:
    loan: Loan
    position: LoanPosition


@dataclass(frozen=True)
class CaseView:
    case: CollectionCase
    borrower: User
    profile: BorrowerProfile
    collector_name: str | None
    loans: list[LoanView]
    borrower_today: date
    emergency_contacts: list[EmergencyContact]
    last_contact_at: datetime | None  # as portal/collections/metrics.py defines a contact

    @property
    def case_loan(self) -> LoanView:
        return next(view for view in self.loans if view.loan.id == self.case.loan_id)

    @property
    def loans_case_first(self) -> list[LoanView]:
        return sorted(self.loans, key=lambda view: view.loan.id != self.case.loan_id)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.profile.phone)

    @property
    def masked_email(self) -> str:
        return mask_email(self.borrower.email)

    @property
    def masked_emergency_contacts(self) -> list[tuple[EmergencyContact, str]]:
        return [(contact, mask_phone(contact.phone)) for contact in self.emergency_contacts]


def case_view(case_id: int, *, viewer: User, now: datetime) -> CaseView:
    """The case with its borrower and every loan of theirs (schedules loaded), positions as of
    the borrower's local date. A fixed number of queries. Raises the access errors."""
    case = authorized_case(case_id, viewer)
    collector = aliased(User)
    borrower, profile, collector_name, last_contact = db.session.execute(
        select(User, BorrowerProfile, collector.name, last_contact_at(User.id))
        .join(BorrowerProfile, BorrowerProfile.user_id == User.id)
        .outerjoin(collector, collector.id == case.assigned_to)
        .where(User.id == case.borrower_id)
    ).one()
    today = local_today(borrower.timezone, now)
    loans = db.session.scalars(
        select(Loan)
        .where(Loan.borrower_id == case.borrower_id)
        .options(selectinload(Loan.installments))
        .order_by(Loan.disbursed_on.desc(), Loan.id.desc())
    ).all()
    return CaseView(
        case=case,
        borrower=borrower,
        profile=profile,
        collector_name=collector_name,
        loans=[LoanView(loan, loan_position(loan, today)) for loan in loans],
        borrower_today=today,
        emergency_contacts=active_contacts(case.borrower_id),
        last_contact_at=last_contact,
    )


def reveal_contact(
    case_id: int, *, viewer: User, field: str, now: datetime, ip_address: str | None = None
) -> str:
    """The borrower's full phone or email, or an emergency contact's phone
    (``emergency_phone:<id>``), for a viewer who may open the case. Audits ``case.pii_revealed``
    with the field. Raises UnknownField, EmergencyContactNotFound (another borrower's contact:
    404) and the access errors."""
    contact_id = _emergency_contact_id(field)
    if field not in REVEALABLE and contact_id is None:
        raise UnknownField()
    case = authorized_case(case_id, viewer)
    if contact_id is not None:
        value = active_contact(case.borrower_id, contact_id).phone
        details: dict = {"field": "emergency_phone", "emergency_contact_id": contact_id}
    else:
        row = db.session.execute(
            select(User.email, BorrowerProfile.phone)
            .join(BorrowerProfile, BorrowerProfile.user_id == User.id)
            .where(User.id == case.borrower_id)
        ).one()
        value = (row.email if field == "email" else row.phone) or ""
        details = {"field": field}
    audit(
        "case.pii_revealed",
        now=now,
        actor_id=viewer.id,
        object_type="collection_case",
        object_id=case.id,
        details=details,
        ip_address=ip_address,
    )
    return value


def _emergency_contact_id(field: str) -> int | None:
    number = field.removeprefix(EMERGENCY_PHONE)
    return int(number) if field.startswith(EMERGENCY_PHONE) and number.isdigit() else None
