"""The plan terms the borrower agrees to, versioned: a consent stores the version it was given to.

Change the wording and you change the version: a consent always points at the words shown.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

PLAN_TERMS_VERSION = "2026-12-01"

PLAN_TERMS = (
    _l(
        "The plan replaces the loan's remaining payment dates: the balance shown, less the "
        "waiver, is due on the plan's dates instead."
    ),
    _l(
        "The waiver shown is granted when the plan starts. The plan starts when the down "
        "payment is received (at once if there is none)."
    ),
    _l(
        "While the plan is kept we send only plan reminders about this loan and no collection "
        "messages."
    ),
    _l(
        "If a plan payment is not made within the grace days after its date, the plan ends: "
        "what is unpaid is due at once, and we will tell you your options."
    ),
    _l("You may pay more, or pay the plan off early, at any time without any extra charge."),
)
