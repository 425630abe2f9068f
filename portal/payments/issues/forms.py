"""The admin's note resolving a payment issue."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length

from portal.forms import keep_text
from portal.payments.issues.services import MAX_NOTE


class ResolveForm(FlaskForm):
    note = TextAreaField(
        _l("What was done"),
        filters=[keep_text],
        validators=[
            InputRequired(message=_l("Say what was done about it.")),
            Length(max=MAX_NOTE, message=_l("A note has at most 500 characters.")),
        ],
    )
