"""Forms of the staff messaging pages: template drafts, prohibited terms, rulebook thresholds.

The forms check shape (lengths, choices, numbers); the services check meaning (template
variables and wording in ``templates.validate_template``, rulebook consistency in
``rulebooks.save_rulebook``). The one overlap, the contact window's order, is repeated here only
to put a translated message next to the field; the service still refuses it on its own.
"""

from __future__ import annotations

from datetime import time

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Form,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from portal.config import SUPPORTED_LOCALES
from portal.forms import WholeNumberField, choices, keep_text, strip
from portal.i18n import LANGUAGE_NAMES
from portal.messaging.channels import DISPATCHED_CHANNELS
from portal.messaging.content_check import CATEGORIES
from portal.messaging.labels import (
    CATEGORY_LABELS,
    CHANNEL_LABELS,
    RULEBOOK_NAMES,
    STATUS_LABELS,
    THIRD_PARTY_MODES,
)
from portal.messaging.purposes import PURPOSES
from portal.messaging.rulebooks import BUILT_IN

SUBJECT_MAX = 200  # the column's size
BODY_TEXT_MAX = 20_000
BODY_HTML_MAX = 100_000
TERM_MAX = 100


class TemplateForm(FlaskForm):
    """A template draft. Which fields apply depends on the channel (see ``fields_for``)."""

    subject = StringField(
        _l("Subject"),
        filters=[keep_text],
        validators=[
            Length(max=SUBJECT_MAX, message=_l("At most %(max)d characters.", max=SUBJECT_MAX))
        ],
    )
    body_text = TextAreaField(
        _l("Text"),
        filters=[keep_text],
        validators=[
            Length(max=BODY_TEXT_MAX, message=_l("At most %(max)d characters.", max=BODY_TEXT_MAX))
        ],
    )
    body_html = TextAreaField(
        _l("HTML version (optional)"),
        filters=[keep_text],
        validators=[
            Length(max=BODY_HTML_MAX, message=_l("At most %(max)d characters.", max=BODY_HTML_MAX))
        ],
    )


class PreviewForm(TemplateForm):
    """A draft sent by the editor for a live preview (JSON, CSRF checked from the header)."""

    purpose = StringField(validators=[InputRequired()])
    channel = SelectField(choices=choices({c.value: c.value for c in DISPATCHED_CHANNELS}))
    locale = SelectField(choices=choices({code: code for code in SUPPORTED_LOCALES}))

    def validate_purpose(self, field) -> None:
        if field.data not in PURPOSES:
            raise ValidationError(_l("Unknown purpose."))


class TermForm(FlaskForm):
    """A prohibited word or phrase an admin adds to a locale's list."""

    locale = SelectField(
        _l("Language"), choices=choices({code: LANGUAGE_NAMES[code] for code in SUPPORTED_LOCALES})
    )
    category = SelectField(
        _l("Category"), choices=choices({code: CATEGORY_LABELS[code] for code in CATEGORIES})
    )
    term = StringField(
        _l("Word or phrase"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Please enter a word or phrase.")),  # after trimming
            Length(
                min=1,
                max=TERM_MAX,
                message=_l("Between 1 and %(max)d characters.", max=TERM_MAX),
            ),
        ],
    )


class LenderRulebookForm(FlaskForm):
    """Which rulebook applies to borrowers who carry no override of their own."""

    code = SelectField(
        _l("Lender's rulebook"),
        choices=choices({code: RULEBOOK_NAMES.get(code, code) for code in BUILT_IN}),
    )


def _limit(label) -> WholeNumberField:
    """An optional non-negative limit: empty means "no limit"."""
    return WholeNumberField(
        label,
        validators=[
            Optional(),
            NumberRange(min=0, message=_l("Enter a whole number of 0 or more.")),
        ],
    )


def _count(label, minimum: int = 0) -> WholeNumberField:
    return WholeNumberField(
        label,
        validators=[
            InputRequired(message=_l("Please enter a number.")),
            NumberRange(
                min=minimum, message=_l("Enter a whole number of %(min)d or more.", min=minimum)
            ),
        ],
    )


class RulebookForm(FlaskForm):
    """A rulebook's thresholds. ``changes()`` turns it into what ``save_rulebook`` takes."""

    code = HiddenField()
    window_start = TimeField(
        _l("Contact window starts"),
        format="%H:%M",
        validators=[InputRequired(message=_l("Enter a time as HH:MM."))],
    )
    window_end = TimeField(
        _l("Contact window ends"),
        format="%H:%M",
        validators=[InputRequired(message=_l("Enter a time as HH:MM."))],
    )
    sms_cap = _count(_l("Text messages per day"))
    email_cap = _count(_l("Emails per day"))
    max_connected_calls_per_day = _limit(_l("Connected calls per day"))
    max_dial_attempts_per_day = _limit(_l("Dial attempts per day"))
    max_call_attempts_per_7_days = _limit(_l("Call attempts per 7 days"))
    quiet_days_after_conversation = _limit(_l("Quiet days after a conversation"))
    third_party_contact = SelectField(
        _l("Contacting third parties"), choices=choices(THIRD_PARTY_MODES)
    )
    unreachable_after_attempts = _count(_l("Unreachable after failed attempts"), minimum=1)
    opt_out_notice_in_electronic_messages = BooleanField(
        _l("Electronic messages carry an opt-out notice")
    )

    @classmethod
    def initial_data(cls, settings_json: dict) -> dict:
        """Form data from ``rulebooks.settings_to_json`` output."""
        data = {k: v for k, v in settings_json.items() if k != "daily_caps"}
        data["window_start"] = time.fromisoformat(settings_json["window_start"])
        data["window_end"] = time.fromisoformat(settings_json["window_end"])
        data["sms_cap"] = settings_json["daily_caps"].get("sms")
        data["email_cap"] = settings_json["daily_caps"].get("email")
        return data

    def changes(self, current_caps: dict[str, int]) -> dict:
        """The edited settings, in the JSON shape ``rulebooks.save_rulebook`` expects."""
        return {
            "window_start": self.window_start.data.strftime("%H:%M"),
            "window_end": self.window_end.data.strftime("%H:%M"),
            "daily_caps": {
                **current_caps,
                "sms": self.sms_cap.data,
                "email": self.email_cap.data,
            },
            "max_connected_calls_per_day": self.max_connected_calls_per_day.data,
            "max_dial_attempts_per_day": self.max_dial_attempts_per_day.data,
            "max_call_attempts_per_7_days": self.max_call_attempts_per_7_days.data,
            "quiet_days_after_conversation": self.quiet_days_after_conversation.data,
            "third_party_contact": self.third_party_contact.data,
            "unreachable_after_attempts": self.unreachable_after_attempts.data,
            "opt_out_notice_in_electronic_messages": bool(
                self.opt_out_notice_in_electronic_messages.data
            ),
        }

    def validate_window_end(self, field) -> None:
        start = self.window_start.data
        if start is not None and field.data is not None and field.data <= start:
            raise ValidationError(_l("The contact window must end after it starts."))


class MessageFilterForm(Form):
    """Filters of the message log, read from the query string (a GET form: no CSRF)."""

    status = SelectField(
        _l("Status"), choices=choices({"": _l("Any status"), **STATUS_LABELS}), default=""
    )
    channel = SelectField(
        _l("Channel"), choices=choices({"": _l("Any channel"), **CHANNEL_LABELS}), default=""
    )
    purpose = SelectField(
        _l("Purpose"),
        choices=choices({"": _l("Any purpose"), **{c: p.label for c, p in PURPOSES.items()}}),
        default="",
    )
    page = WholeNumberField(validators=[Optional(), NumberRange(min=1)], default=1)
