"""The pay page's form and the sandbox checkout's card form.

Shape only: which option, the typed amount as text (``quotes.read_amount`` reads it in the
loan's currency), and the amounts the page showed (so a page gone stale is noticed).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, StringField
from wtforms.validators import AnyOf, InputRequired, Length, Optional

from portal.forms import WholeNumberField, choices, strip
from portal.money import MAX_AMOUNT_MINOR
from portal.payments.labels import OPTION_LABELS


class AmountShownField(WholeNumberField):
    """An amount in minor units the page showed (hidden), within what the ledger holds."""

    maximum = MAX_AMOUNT_MINOR


class PayForm(FlaskForm):
    option = RadioField(
        _l("What would you like to pay?"),
        choices=choices(OPTION_LABELS),
        validators=[InputRequired(message=_l("Choose what to pay."))],
    )
    other_amount = StringField(
        _l("Amount"),
        filters=[strip],
        validators=[Length(max=40, message=_l("Please enter an amount such as 100.00."))],
        render_kw={"inputmode": "decimal", "autocomplete": "off", "maxlength": 40},
    )
    # What the page showed for the chosen option; the service refuses it if it changed since.
    shown_overdue = AmountShownField()
    shown_next_installment = AmountShownField()
    shown_payoff = AmountShownField()
    # The "other" amount whose allocation the borrower saw: paying it needs that preview first.
    previewed = AmountShownField()
    # The button pressed: "preview" (show the allocation of the other amount) or "pay".
    action = HiddenField(validators=[Optional(), AnyOf(["preview", "pay"])])


class SandboxCardForm(FlaskForm):
    card_number = StringField(
        _l("Card number"),
        filters=[strip],
        validators=[
            InputRequired(message=_l("Enter a test card number.")),
            Length(max=30, message=_l("Enter a test card number.")),
        ],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": 30},
    )
    expiry = StringField(
        _l("Expiry (MM/YY)"),
        filters=[strip],
        validators=[
            InputRequired(message=_l("Enter the expiry date as MM/YY.")),
            Length(max=10, message=_l("Enter the expiry date as MM/YY.")),
        ],
        render_kw={"autocomplete": "off", "maxlength": 10, "placeholder": "12/34"},
    )
    cvc = StringField(
        _l("Security code (CVC)"),
        filters=[strip],
        validators=[
            InputRequired(message=_l("The security code is 3 or 4 digits.")),
            Length(max=4, message=_l("The security code is 3 or 4 digits.")),
        ],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": 4},
    )
