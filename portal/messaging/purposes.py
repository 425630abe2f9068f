"""What each kind of message is for, which variables its templates may use, and its contact kind.

Templates are checked against these declarations when admins save them: a variable a purpose does
not declare, or a required one left out, is a validation error, never a blank in a message.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from portal.messaging.models import ContactKind

# Variables every template may use.
COMMON_VARIABLES = frozenset({"borrower_name", "portal_url"})
DEBT_VARIABLES = frozenset(
    {
        "loan_reference",
        "amount_due",
        "amount_overdue",
        "principal_overdue",
        "interest_overdue",
        "fees_overdue",
        "late_charges_overdue",
        "days_past_due",
        "due_date",
        "due_dates",
        "outstanding",
        "amount_paid",
    }
)


@dataclass(frozen=True)
class Purpose:
    code: str
    label: object  # lazy string
    kind: ContactKind
    required: frozenset[str]
    optional: frozenset[str] = frozenset()
    # A message to someone other than the borrower: may never mention the debt.
    third_party: bool = False

    @property
    def variables(self) -> frozenset[str]:
        return self.required | self.optional | COMMON_VARIABLES


def _p(code, label, kind, required, optional=(), third_party=False) -> Purpose:
    return Purpose(code, label, kind, frozenset(required), frozenset(optional), third_party)


_OVERDUE = (
    "loan_reference",
    "days_past_due",
    "amount_overdue",
    "principal_overdue",
    "interest_overdue",
    "fees_overdue",
    "due_dates",
)
# Late charges (portal.loans.charges): the formatted amount, or empty when there are none, so a
# template can mention them only where they are non-zero ({% if late_charges_overdue %}).
_OVERDUE_OPTIONAL = ("pay_url", "plans_url", "late_charges_overdue")

PURPOSES: dict[str, Purpose] = {
    p.code: p
    for p in (
        _p(
            "pre_due_reminder",
            _l("Reminder before the due date"),
            ContactKind.REMINDER,
            ("loan_reference", "due_date", "amount_due"),
            ("days_until_due", "pay_url"),
        ),
        _p(
            "due_today",
            _l("Due today"),
            ContactKind.REMINDER,
            ("loan_reference", "amount_due"),
            ("due_date", "pay_url"),
        ),
        _p(
            "overdue_stage_1",
            _l("Overdue notice, stage 1"),
            ContactKind.COLLECTION,
            _OVERDUE,
            _OVERDUE_OPTIONAL,
        ),
        _p(
            "overdue_stage_2",
            _l("Overdue notice, stage 2"),
            ContactKind.COLLECTION,
            _OVERDUE,
            _OVERDUE_OPTIONAL,
        ),
        _p(
            "overdue_stage_3",
            _l("Overdue notice, stage 3"),
            ContactKind.COLLECTION,
            _OVERDUE,
            _OVERDUE_OPTIONAL,
        ),
        _p(
            "lawyer_letter",
            _l("Lawyer letter"),
            ContactKind.COLLECTION,
            ("loan_reference", "amount_overdue", "days_past_due", "deadline_date"),
            ("lawyer_name",),
        ),
        _p(
            "payment_receipt",
            _l("Payment receipt"),
            ContactKind.REQUIRED_NOTICE,
            ("loan_reference", "amount_paid", "paid_at", "outstanding"),
            ("allocation_summary", "receipt_url"),
        ),
        _p(
            "plan_confirmation",
            _l("Repayment plan confirmation"),
            ContactKind.REQUIRED_NOTICE,
            ("loan_reference", "plan_summary"),
            ("plans_url",),
        ),
        _p(
            "plan_reminder",
            _l("Repayment plan payment reminder"),
            ContactKind.REMINDER,
            ("loan_reference", "due_date", "amount_due", "plan_installment"),
            ("days_until_due", "pay_url"),
        ),
        _p(
            "plan_broken",
            _l("Repayment plan ended (a payment was missed)"),
            ContactKind.REQUIRED_NOTICE,
            ("loan_reference",),
            # The text message only points to the portal; notices carry the plan.
            ("plan_summary", "plans_url"),
        ),
        _p(
            "plan_proposed",
            _l("Repayment plan proposed by our team"),
            ContactKind.REQUIRED_NOTICE,
            ("loan_reference",),
            # The text message only points to the portal; notices carry the plan.
            ("plan_summary", "plans_url"),
        ),
        _p(
            "hardship_decision",
            _l("Hardship review decision"),
            ContactKind.REQUIRED_NOTICE,
            ("loan_reference", "decision"),
            # The admin's reasons: in the notice and email, left out of the text message.
            ("decision_reason", "hardship_url"),
        ),
        _p(
            "complaint_acknowledgement",
            _l("Complaint acknowledgement"),
            ContactKind.REQUIRED_NOTICE,
            ("complaint_reference", "response_due_date"),
        ),
        _p(
            "agency_placed",
            _l("Account placed with a collection agency"),
            ContactKind.REQUIRED_NOTICE,
            ("loan_reference", "agency_name", "placed_on"),
        ),
        _p(
            "agency_recalled",
            _l("Account taken back from a collection agency"),
            ContactKind.REQUIRED_NOTICE,
            ("loan_reference", "agency_name", "recalled_on"),
        ),
        _p(
            "third_party_locate",
            _l("Request to pass on a message (emergency contact)"),
            ContactKind.COLLECTION,
            ("contact_name",),
            (),
            third_party=True,
        ),
    )
}


def purpose(code: str) -> Purpose:
    try:
        return PURPOSES[code]
    except KeyError:
        raise KeyError(f"unknown message purpose {code!r}") from None
