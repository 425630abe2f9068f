"""Words for the payments codes shown to people: the pay options, the processor's decline codes
(shown in the borrower's language from the code, never in the processor's own English), attempt
statuses (reconciliation), issue kinds, refund and dispute statuses.

The one home of payments' vocabulary (pages, the staff home's alert). Lazily translated; an
unknown code is shown as itself rather than hidden.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.messaging.labels import label
from portal.payments.models import AttemptStatus, IssueKind, PayOption, RefundStatus

ATTEMPT_STATUS_LABELS = {
    AttemptStatus.OPEN.value: _l("Waiting for the borrower"),
    AttemptStatus.PROCESSING.value: _l("Waiting for the payment service"),
    AttemptStatus.SUCCEEDED.value: _l("Booked"),
    AttemptStatus.CANCELED.value: _l("Canceled"),
    AttemptStatus.NEEDS_REVIEW.value: _l("Needs review"),
}


def attempt_status_label(code: str | None) -> str:
    """The words for an attempt's status; an unknown code is shown as itself."""
    if code is None:
        return "—"
    return str(ATTEMPT_STATUS_LABELS.get(code, code))


ISSUE_KIND_LABELS = {
    IssueKind.AMOUNT_MISMATCH.value: _l("Amount or currency mismatch"),
    IssueKind.UNKNOWN_INTENT.value: _l("Payment we cannot match"),
    IssueKind.PROCESSOR_UNREACHABLE.value: _l("Payment service unreachable"),
    IssueKind.BOOKING_FAILED.value: _l("Payment taken but not booked"),
}
# What the issue means and what to do about it, shown under its label.
ISSUE_KIND_GUIDANCE = {
    IssueKind.AMOUNT_MISMATCH.value: _l(
        "The processor took another amount or currency than the borrower was asked for. Nothing "
        "was booked: compare the payment in the processor's dashboard with the attempt, then "
        "book or refund it."
    ),
    IssueKind.UNKNOWN_INTENT.value: _l(
        "The processor reports a successful payment that matches none of our payment attempts. "
        "Find the borrower in the processor's dashboard before booking anything."
    ),
    IssueKind.PROCESSOR_UNREACHABLE.value: _l(
        "The payment service timed out or answered an error. Nothing was charged or refunded "
        "by that call: check the service's status and try again."
    ),
    IssueKind.BOOKING_FAILED.value: _l(
        "The borrower's money was taken but the ledger refused the booking. Book it by hand or "
        "refund it, so that the borrower is not charged twice."
    ),
}
REFUND_STATUS_LABELS = {
    RefundStatus.PENDING.value: _l("Pending"),
    RefundStatus.SUCCEEDED.value: _l("Refunded"),
    RefundStatus.FAILED.value: _l("Failed"),
    RefundStatus.CANCELED.value: _l("Canceled"),
}
# A booked payment's state as refunds left it (portal/support/panel.py RecentPayment.state).
PAYMENT_STATE_LABELS = {
    "booked": ATTEMPT_STATUS_LABELS[AttemptStatus.SUCCEEDED.value],
    "partly_refunded": _l("Partly refunded"),
    "refunded": REFUND_STATUS_LABELS[RefundStatus.SUCCEEDED.value],
}

# Stripe's dispute statuses.
DISPUTE_STATUS_LABELS = {
    "warning_needs_response": _l("Inquiry: needs a response"),
    "warning_under_review": _l("Inquiry under review"),
    "warning_closed": _l("Inquiry closed"),
    "needs_response": _l("Needs a response"),
    "under_review": _l("Under review"),
    "won": _l("Won"),
    "lost": _l("Lost"),
}


def refund_status_label(status: RefundStatus | str) -> str:
    return label(REFUND_STATUS_LABELS, getattr(status, "value", status))


def issue_kind_label(kind: IssueKind | str) -> str:
    return label(ISSUE_KIND_LABELS, getattr(kind, "value", kind))


def issue_guidance(kind: IssueKind | str) -> str:
    return label(ISSUE_KIND_GUIDANCE, getattr(kind, "value", kind))


def dispute_status_label(status: str) -> str:
    return label(DISPUTE_STATUS_LABELS, status)


OPTION_LABELS = {
    PayOption.OVERDUE.value: _l("Pay what is overdue"),
    PayOption.NEXT_INSTALLMENT.value: _l("Pay the next installment"),
    PayOption.OTHER.value: _l("Pay another amount"),
    PayOption.PAYOFF.value: _l("Pay off the loan"),
    PayOption.PLAN_DOWN_PAYMENT.value: _l("Repayment plan down payment"),
}
OPTION_HINTS = {
    PayOption.OVERDUE.value: _l("Brings the loan back on schedule."),
    PayOption.NEXT_INSTALLMENT.value: _l(
        "What is overdue and the next installment: the loan is paid up to its next due date."
    ),
    PayOption.OTHER.value: _l("Any amount up to what settles the loan."),
    PayOption.PAYOFF.value: _l("Settles the whole loan today; interest not yet earned is dropped."),
}
# Stripe's decline codes (and error codes) the borrower can act on.
DECLINE_MESSAGES = {
    "insufficient_funds": _l(
        "Your card has insufficient funds. Try another card or a smaller amount."
    ),
    "generic_decline": _l("Your card was declined. Try another card or payment method."),
    "card_declined": _l("Your card was declined. Try another card or payment method."),
    "expired_card": _l("Your card has expired. Try another card."),
    "incorrect_cvc": _l("The card's security code is incorrect. Check it and try again."),
    "incorrect_number": _l("The card number is incorrect. Check it and try again."),
    "lost_card": _l("Your card was declined. Try another card or payment method."),
    "stolen_card": _l("Your card was declined. Try another card or payment method."),
    "processing_error": _l("The card could not be charged just now. Please try again."),
    "authentication_required": _l("Your bank asked to confirm this payment. Please try again."),
    "payment_intent_authentication_failure": _l(
        "The payment was not confirmed with your bank. Please try again."
    ),
}
UNKNOWN_DECLINE = _l("The payment did not go through. Try another card or payment method.")


def decline_message(code: str | None) -> str:
    """The borrower's words for a decline code (a general message for codes not listed)."""
    return str(DECLINE_MESSAGES.get(code or "", UNKNOWN_DECLINE))
