"""The borrower's form for naming an emergency contact.

The form checks shape (filled in, lengths, a number in international format); ``services.py``
beside it checks the rest (own number, duplicates, the limit).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from portal.messaging.emergency_contacts.services import (
    NAME_MAX,
    RELATIONSHIPS,
    InvalidPhone,
    normalize_phone,
)


def _e164(form, field) -> None:
    if field.data and normalize_phone(field.data, form.phone_region) is None:
        raise ValidationError(str(InvalidPhone.message))


class EmergencyContactForm(FlaskForm):
    # The borrower's region for numbers typed without a country code (``phone_region``).
    phone_region: str | None = None

    name = StringField(
        _l("Full name"),
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[
            DataRequired(message=_l("Please enter their name.")),
            Length(max=NAME_MAX, message=_l("At most %(max)d characters.", max=NAME_MAX)),
        ],
        render_kw={"autocomplete": "off", "maxlength": NAME_MAX},
    )
    # Kept as typed, so a refused number comes back exactly as entered; the service normalises.
    phone = StringField(
        _l("Mobile number"),
        validators=[
            DataRequired(message=_l("Please enter their mobile number.")),
            Length(max=30, message=str(InvalidPhone.message)),
            _e164,
        ],
        render_kw={"inputmode": "tel", "autocomplete": "off", "placeholder": "+8613800138000"},
    )
    relationship = SelectField(
        _l("They are your"),
        choices=[
            SelectChoice(value="", label=_l("Choose…")),
            *(SelectChoice(value=value, label=label) for value, label in RELATIONSHIPS.items()),
        ],
        validators=[InputRequired(message=_l("Choose how you know this person."))],
    )
