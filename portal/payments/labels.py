"""Words for payments' codes shown to people: the pay options, the processor's decline codes
(shown in the borrower's language from the code, never in the processor's own English) and the
reconciliation page's attempt statuses."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.payments.models import AttemptStatus, PayOption

OPTION_LABELS = {
    PayOption.OVERDUE.value: _l("Pay what is overdue"),
    PayOption.NEXT_INSTALLMENT.value: _l("Pay the next installment"),
    PayOption.OTHER.value: _l("Pay another amount"),
    PayOption.PAYOFF.value: _l("Pay off the loan"),
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
