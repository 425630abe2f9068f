"""Complaint forms (shape only; the services check meaning: the files' content, ownership of
the loan, what the lifecycle allows)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    MultipleFileField,
    SelectField,
    SelectMultipleField,
    TextAreaField,
)
from wtforms.fields import DateField, StringField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.complaints.labels import CATEGORY_LABELS, REMEDY_LABELS, ROOT_CAUSE_LABELS
from portal.complaints.remedies import WAIVABLE
from portal.complaints.services import DESCRIPTION_MIN
from portal.complaints.thread import BODY_MAX
from portal.forms import IdField, choices, keep_text, sane_date
from portal.loans.labels import COMPONENT_LABELS

ACCEPT = ".jpg,.jpeg,.png,.pdf,image/jpeg,image/png,application/pdf"


def _text(label, minimum: int = 1, required: bool = True):
    validators = [
        Length(
            min=minimum,
            max=BODY_MAX,
            message=_l("Write %(min)d to %(max)d characters.", min=minimum, max=BODY_MAX),
        )
    ]
    if required:
        validators.insert(0, DataRequired(message=_l("Please write something.")))
    else:
        validators = [Optional(), *validators]
    return TextAreaField(label, filters=[keep_text], validators=validators)


class ComplaintForm(FlaskForm):
    category = SelectField(_l("What is it about?"), choices=choices(CATEGORY_LABELS))
    loan_id = SelectField(_l("Related loan (optional)"), choices=[], validate_choice=True)
    description = _text(_l("What happened, and what would you like us to do?"), DESCRIPTION_MIN)
    attachments = MultipleFileField(
        _l("Evidence (optional): screenshots or documents, JPEG, PNG or PDF"),
        render_kw={"accept": ACCEPT},
    )


class ReplyForm(FlaskForm):
    body = _text(_l("Your message"), required=False)
    attachments = MultipleFileField(_l("Add evidence (optional)"), render_kw={"accept": ACCEPT})


class RatingForm(FlaskForm):
    rating = SelectField(
        _l("How satisfied are you with our answer?"),
        choices=choices({str(n): f"{n} " + "★" * n for n in range(5, 0, -1)}),
    )


class StaffMessageForm(FlaskForm):
    body = _text(_l("Message"))
    internal = BooleanField(_l("Internal note (never shown to the borrower)"))


class ReasonForm(FlaskForm):
    """Extension, information request, reopening: one text."""

    body = _text(_l("Reason or message"))


class PersonForm(FlaskForm):
    """Assign a handler, escalate to a supervisor, or name the staff member complained about."""

    user_id = IdField(_l("Staff member"), validators=[Optional()])


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ResolveForm(FlaskForm):
    resolution = _text(_l("Resolution (shown to the borrower)"))
    remedy = SelectField(_l("Remedy"), choices=choices(REMEDY_LABELS))
    components = MultiCheckboxField(
        _l("Waive what is due of"),
        choices=choices({c.value: COMPONENT_LABELS[c.value] for c in WAIVABLE}),
        validators=[Optional()],
    )
    root_cause = SelectField(_l("Root cause"), choices=choices(ROOT_CAUSE_LABELS))
    systemic = BooleanField(_l("Systemic: other borrowers are likely affected"))


class CalendarDayForm(FlaskForm):
    day = DateField(_l("Day"), validators=[DataRequired(message=_l("Enter a date.")), sane_date])
    kind = SelectField(
        _l("Kind"),
        choices=choices({"holiday": _l("Holiday"), "working_day": _l("Weekend day worked")}),
    )
    name = StringField(_l("Name"), validators=[Optional(), Length(max=120)])


class FromChatForm(FlaskForm):
    """An agent opens a complaint from a conversation: only its category; the borrower's own
    words are the description."""

    category = SelectField(_l("Complaint about"), choices=choices(CATEGORY_LABELS))
