"""The admin's refund form: amount (the payment's currency), reason, and a ticked confirmation."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import DataRequired, InputRequired, Length

from portal.forms import strip
from portal.payments.refunds import MAX_REASON

AMOUNT_MAX_LENGTH = 20


class RefundForm(FlaskForm):
    amount = StringField(
        _l("Amount to refund"),
        filters=[strip],
        validators=[
            InputRequired(message=_l("Please enter an amount.")),
            Length(max=AMOUNT_MAX_LENGTH, message=_l("That is not an amount.")),
        ],
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    reason = StringField(
        _l("Reason"),
        filters=[strip],
        validators=[
            InputRequired(message=_l("Give a reason for the refund.")),
            Length(max=MAX_REASON, message=_l("A reason has at most 500 characters.")),
        ],
    )
    confirm = BooleanField(
        _l("I confirm: the money goes back to the borrower and the loan is owed again."),
        validators=[DataRequired(message=_l("Tick the box to confirm the refund."))],
    )
    # Where to go back to afterwards: the case page the form was on (staff paths only).
    next = HiddenField()
