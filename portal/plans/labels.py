"""Words for the plan codes the pages show: frequencies, down payment kinds, and why a loan may
not enroll. Lazily translated."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.loans.charges.labels import COMPONENT_LABELS
from portal.plans.models import PlanStatus
from portal.plans.offers import Ineligible
from portal.plans.policy import DownPaymentKind, Term
from portal.plans.schedule import Frequency

FREQUENCY_LABELS = {
    Frequency.MONTHLY.value: _l("Monthly"),
    Frequency.BIWEEKLY.value: _l("Every two weeks"),
}
DOWN_PAYMENT_LABELS = {
    DownPaymentKind.NONE.value: _l("No down payment"),
    DownPaymentKind.PERCENT.value: _l("A share of the balance"),
    DownPaymentKind.FIXED.value: _l("A fixed amount"),
}
INELIGIBLE_LABELS = {
    Ineligible.NOTHING_OWED.value: _l("This loan is paid: there is nothing to spread out."),
    Ineligible.TOO_EARLY.value: _l(
        "A plan is for loans with overdue payments. This loan is not overdue enough for one: "
        "please pay the next installment when it is due."
    ),
    Ineligible.TOO_LATE.value: _l(
        "This loan has been overdue too long for a standard plan. Contact our support team: "
        "we will look for a solution with you."
    ),
    Ineligible.BALANCE_TOO_SMALL.value: _l(
        "The balance is too small to spread out: please pay it in one payment."
    ),
    Ineligible.BALANCE_TOO_LARGE.value: _l(
        "The balance is above what a standard plan covers. Contact our support team: we will "
        "look for a solution with you."
    ),
    Ineligible.ACTIVE_PLAN.value: _l("This loan already has an active plan."),
    Ineligible.TOO_MANY_PLANS.value: _l(
        "This loan has had as many plans in the last 12 months as we can offer."
    ),
}


def term_label(term: Term):
    """A term in words: "6 payments, monthly"."""
    return _l(
        "%(count)s payments, %(frequency)s",
        count=term.installments,
        frequency=FREQUENCY_LABELS[term.frequency.value],
    )


STATUS_LABELS = {
    PlanStatus.PROPOSED.value: _l("Proposed by our team"),
    PlanStatus.AWAITING_APPROVAL.value: _l("Waiting for approval"),
    PlanStatus.PENDING.value: _l("Waiting for the down payment"),
    PlanStatus.ACTIVE.value: _l("In progress"),
    PlanStatus.COMPLETED.value: _l("Completed"),
    PlanStatus.BROKEN.value: _l("Ended: a payment was missed"),
    PlanStatus.CANCELED.value: _l("Canceled"),
}
# Why a plan ended (``RepaymentPlan.end_reason``, as enrollment, approval and the run write it).
END_REASON_LABELS = {
    "paid": _l("Every plan payment was made: the plan is paid in full."),
    "missed_payment": _l(
        "A plan payment was not made within the grace days after its date, so the plan ended."
    ),
    "replaced": _l("It was replaced by another plan."),
    "expired": _l("It did not start in time: the down payment was not made within 7 days."),
    "declined": _l("Our team could not approve it."),
}
# A plan payment's state (``pages.ScheduledPayment.status``).
PAYMENT_STATUS_LABELS = {
    "paid": _l("Paid"),
    "overdue": _l("Overdue"),
    "partly_paid": _l("Partly paid"),
    "upcoming": _l("Upcoming"),
}
# Everything the plan templates look up, in one mapping (macros/plans.html).
PLAN_LABELS = {
    "frequency": FREQUENCY_LABELS,
    "down_payment": DOWN_PAYMENT_LABELS,
    "ineligible": INELIGIBLE_LABELS,
    "component": COMPONENT_LABELS,
    "status": STATUS_LABELS,
    "end_reason": END_REASON_LABELS,
    "payment": PAYMENT_STATUS_LABELS,
}
