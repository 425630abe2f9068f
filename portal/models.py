"""Every capability's models, imported in one place for Alembic and create_app()."""

from portal.audit.models import AuditChainHead, AuditEvent
from portal.auth.models import BorrowerProfile, ContactPreference, User
from portal.loans.models import Installment, Loan, Payment, PaymentAllocation

__all__ = [
    "AuditChainHead",
    "AuditEvent",
    "BorrowerProfile",
    "ContactPreference",
    "Installment",
    "Loan",
    "Payment",
    "PaymentAllocation",
    "User",
]
