"""Every capability's models, imported in one place for Alembic and create_app()."""

from portal.audit.models import AuditChainHead, AuditEvent
from portal.auth.models import BorrowerProfile, ContactPreference, User
from portal.collections.models import (
    AgencyPlacement,
    Assessment,
    CaseNote,
    CaseTransition,
    CollectionCase,
    CollectionPosition,
    CollectionRun,
    CollectionStrategy,
    DelinquencySnapshot,
    LegalRequest,
    PromiseToPay,
)
from portal.hardship.models import HardshipDocument, HardshipRequest
from portal.loans.charges.models import AccrualMark, ChargePolicy, LateCharge
from portal.loans.models import (
    Installment,
    LedgerAdjustment,
    Loan,
    Payment,
    PaymentAllocation,
)
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
from portal.payments.models import (
    Dispute,
    PaymentAttempt,
    PaymentIssue,
    ProcessorEvent,
    Refund,
    RefundReversal,
)
from portal.plans.models import PlanPolicyVersion
from portal.support.models import Conversation, ConversationMessage, SupportAgent

__all__ = [
    "Conversation",
    "ConversationMessage",
    "SupportAgent",
    "HardshipDocument",
    "HardshipRequest",
    "PlanPolicyVersion",
    "ChargePolicy",
    "LateCharge",
    "AccrualMark",
    "Dispute",
    "PaymentAttempt",
    "PaymentIssue",
    "ProcessorEvent",
    "Refund",
    "RefundReversal",
    "AgencyPlacement",
    "Assessment",
    "CaseNote",
    "CaseTransition",
    "CollectionCase",
    "CollectionPosition",
    "CollectionRun",
    "CollectionStrategy",
    "DelinquencySnapshot",
    "LegalRequest",
    "PromiseToPay",
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
    "LedgerAdjustment",
    "Loan",
    "Payment",
    "PaymentAllocation",
    "User",
]
