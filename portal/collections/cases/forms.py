"""Forms of the collector's pages: the queue filter, and each action on a case.

Forms check shape (choices, lengths, dates, that an amount is a number); the services in
``portal.collections.cases`` check meaning (a date in the past for the borrower, an amount above
the balance, a second pending promise). Amounts are parsed in the case's currency with
``parse_amount`` by ``amount_of``, which puts a translated error next to the field.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DateTimeLocalField,
    Field,
    Form,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.collections.cases.actions import NOTE_MAX
from portal.collections.cases.assessments import TEXT_MAX
from portal.collections.labels import (
    ARREARS_REASON_LABELS,
    CALL_OUTCOME_LABELS,
    MESSAGE_CHANNEL_LABELS,
    MESSAGE_PURPOSES,
    WILLINGNESS_LABELS,
)
from portal.forms import WholeNumberField, choices, keep_text, sane_date, strip
from portal.loans.charges.forms import WaiverForm
from portal.messaging.models import CallOutcome
from portal.messaging.purposes import PURPOSES
from portal.money import InvalidAmount, parse_amount

AMOUNT_MAX_LENGTH = 20


def _amount(label, required: bool = True) -> StringField:
    first = (
        InputRequired(message=_l("Please enter an amount."))
        if required
        else Optional(strip_whitespace=True)
    )
    return StringField(
        label,
        filters=[strip],
        validators=[first, Length(max=AMOUNT_MAX_LENGTH, message=_l("That is not an amount."))],
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )


def amount_of(field: Field, currency: str) -> int | None:
    """The field's amount in minor units of ``currency``; None if empty or not an amount (then
    the field carries an error)."""
    if not field.data:
        return None
    try:
        return parse_amount(field.data, currency)
    except InvalidAmount:
        field.errors = [*field.errors, _l("Enter an amount such as 1,250.00.")]
        return None


class QueueFilterForm(Form):
    """The admin's collector filter and the page number (GET; no CSRF: it changes nothing)."""

    collector = StringField()
    page = WholeNumberField(validators=[Optional(), NumberRange(min=1)])


class RevealForm(FlaskForm):
    field = HiddenField(validators=[InputRequired()])


class AssignForm(FlaskForm):
    collector = SelectField(_l("Collector"), coerce=int, choices=[])


class CallForm(FlaskForm):
    """A call made; a promise-to-pay outcome also needs the amount and the date."""

    outcome = SelectField(_l("Outcome"), choices=choices(CALL_OUTCOME_LABELS))
    note = TextAreaField(
        _l("What was said (optional)"),
        filters=[keep_text],
        validators=[Length(max=NOTE_MAX, message=_l("At most %(max)d characters.", max=NOTE_MAX))],
    )
    amount = _amount(_l("Promised amount"), required=False)
    promised_on = DateField(_l("Promised date"), validators=[Optional(), sane_date])

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.outcome.data == CallOutcome.PROMISE_TO_PAY.value:
            if not self.amount.data and not self.amount.errors:
                self.amount.errors = [_l("A promise to pay needs the promised amount.")]
                valid = False
            if self.promised_on.data is None and not self.promised_on.errors:
                self.promised_on.errors = [_l("A promise to pay needs the promised date.")]
                valid = False
        return valid


class PromiseForm(FlaskForm):
    amount = _amount(_l("Amount"))
    promised_on = DateField(
        _l("Date"),
        validators=[InputRequired(message=_l("Please choose the promised date.")), sane_date],
    )


class NoteForm(FlaskForm):
    body = TextAreaField(
        _l("Note"),
        filters=[keep_text],
        validators=[
            DataRequired(message=_l("Please write the note.")),
            Length(max=NOTE_MAX, message=_l("At most %(max)d characters.", max=NOTE_MAX)),
        ],
    )


class MessageForm(FlaskForm):
    purpose = SelectField(
        _l("Message"), choices=choices({code: PURPOSES[code].label for code in MESSAGE_PURPOSES})
    )
    channel = SelectField(_l("Channel"), choices=choices(MESSAGE_CHANNEL_LABELS))


class EmergencyMessageForm(FlaskForm):
    """Asking an emergency contact to pass on a message: the contact is in the URL."""


class CallbackForm(FlaskForm):
    callback_at = DateTimeLocalField(
        _l("Call back at (the borrower's time)"),
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[InputRequired(message=_l("Please choose a date and time.")), sane_date],
    )


def _text(label) -> StringField:
    return StringField(
        label,
        filters=[strip],
        validators=[
            DataRequired(message=_l("Please fill this in.")),
            Length(max=TEXT_MAX, message=_l("At most %(max)d characters.", max=TEXT_MAX)),
        ],
    )


class AssessmentForm(FlaskForm):
    income_situation = _text(_l("Income situation"))
    monthly_income = _amount(_l("Monthly income (optional)"), required=False)
    arrears_reason = SelectField(_l("Why payments stopped"), choices=choices(ARREARS_REASON_LABELS))
    willingness = SelectField(_l("Willingness to pay"), choices=choices(WILLINGNESS_LABELS))
    can_pay = _amount(_l("Can pay per month (optional)"), required=False)
    next_step = _text(_l("Next step"))


# The action forms of the case page, by the prefix each is rendered and submitted with.
ACTION_FORMS: dict[str, type[FlaskForm]] = {
    "call": CallForm,
    "promise": PromiseForm,
    "note": NoteForm,
    "message": MessageForm,
    "callback": CallbackForm,
    "assessment": AssessmentForm,
    "emergency": EmergencyMessageForm,
    "waiver": WaiverForm,  # posted to loans_charges.waive
}
