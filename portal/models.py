"""Every capability's models, imported in one place for Alembic and create_app()."""

from portal.audit.models import AuditChainHead, AuditEvent
from portal.auth.models import BorrowerProfile, ContactPreference, User
from portal.loans.models import Installment, Loan, Payment, PaymentAllocation
from portal.messaging.models import (
    ContactDecisionRecord,
    ContactHold,
    EmergencyContact,
    InboundSms,
    Message,
    MessageTemplate,
    PortalSetting,
    ProhibitedTerm,
    Rulebook,
    SmsLog,
    TemplateVersion,
)

__all__ = [
    "AuditChainHead",
    "ContactDecisionRecord",
    "ContactHold",
    "EmergencyContact",
    "InboundSms",
    "Message",
    "MessageTemplate",
    "PortalSetting",
    "ProhibitedTerm",
    "Rulebook",
    "SmsLog",
    "TemplateVersion",
    "AuditEvent",
    "BorrowerProfile",
    "ContactPreference",
    "Installment",
    "Loan",
    "Payment",
    "PaymentAllocation",
    "User",
]
