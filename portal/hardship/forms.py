"""The borrower's hardship form and the admin's decision form (shape only; the services check
meaning: the documents' content, a pause's length, something to waive)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import MultipleFileField, SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.forms import WholeNumberField, choices, keep_text
from portal.hardship.decisions import REASON_MAX
from portal.hardship.labels import DECISION_LABELS, REASON_LABELS
from portal.hardship.services import DETAILS_MAX
from portal.loans.labels import COMPONENT_LABELS
from portal.loans.models import Component
from portal.plans.enrollment import term_key
from portal.plans.labels import term_label
from portal.plans.services import current_plan_policy


class HardshipForm(FlaskForm):
    reason = SelectField(_l("What has happened"), choices=choices(REASON_LABELS))
    details = TextAreaField(
        _l("Tell us more (optional)"),
        filters=[keep_text],
        validators=[
            Length(max=DETAILS_MAX, message=_l("At most %(max)d characters.", max=DETAILS_MAX))
        ],
    )
    documents = MultipleFileField(
        _l("Documents (optional): JPEG, PNG or PDF"),
        render_kw={"accept": ".jpg,.jpeg,.png,.pdf,image/jpeg,image/png,application/pdf"},
    )


def plan_term_choices() -> list[tuple[str, str]]:
    """The plan policy's terms in force, as "6 payments, monthly"."""
    return [("", "—")] + [
        (term_key(term), str(term_label(term))) for term in current_plan_policy().terms
    ]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class DecisionForm(FlaskForm):
    decision = SelectField(_l("Decision"), choices=choices(DECISION_LABELS))
    reason = TextAreaField(
        _l("Reasons (shown to the borrower)"),
        filters=[keep_text],
        validators=[
            DataRequired(message=_l("Give the reasons for the decision.")),
            Length(max=REASON_MAX, message=_l("At most %(max)d characters.", max=REASON_MAX)),
        ],
    )
    pause_days = WholeNumberField(_l("Pause collection for (days)"), validators=[Optional()])
    # A tailored plan: one of the plan policy's terms, proposed to the borrower (who consents).
    plan_term = SelectField(
        _l("Plan to propose"), choices=plan_term_choices, validators=[Optional()]
    )
    components = MultiCheckboxField(
        _l("Waive what is overdue of"),
        choices=choices(
            {
                c.value: COMPONENT_LABELS[c.value]
                for c in (Component.LATE_CHARGE, Component.INTEREST)
            }
        ),
        validators=[Optional()],
    )
