"""The charge policy form (one product's next version) and the case page's waiver form.

The forms check shape (whole numbers, choices, lengths); ``services.validate_policy`` checks
meaning and lists what is wrong in ``InvalidPolicy``.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FieldList, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length
from wtforms.widgets import HiddenInput, TextInput

from portal.forms import IdField, WholeNumberField, strip
from portal.loans.adjustments import MAX_REASON
from portal.loans.charges.labels import COMPONENT_LABELS, LATE_FEE_KIND_LABELS
from portal.loans.charges.services import Policy
from portal.loans.models import Component


class NumberField(WholeNumberField):
    """A whole number in a text input, so what was typed is shown again as typed."""

    widget = TextInput()


def _required():
    return InputRequired(message=_l("Please enter a number."))


class PolicyForm(FlaskForm):
    # The version the admin edited (0: none yet); a hostile one is a field error, not "none".
    base_version = IdField(widget=HiddenInput())
    grace_days = NumberField(_l("Grace period (days)"), validators=[_required()])
    late_fee_kind = SelectField(
        _l("Late fee"),
        choices=[SelectChoice(code, text) for code, text in LATE_FEE_KIND_LABELS.items()],
    )
    late_fee_flat_minor = NumberField(
        _l("Fixed late fee (minor units: fen, cents)"), validators=[_required()]
    )
    late_fee_bps = NumberField(
        _l("Late fee rate (basis points of the installment)"), validators=[_required()]
    )
    penalty_bps_per_day = NumberField(
        _l("Penalty interest (basis points a day)"), validators=[_required()]
    )
    cap_annual_bps = NumberField(_l("Cost cap (basis points a year)"), validators=[_required()])
    waterfall = FieldList(
        SelectField(
            _l("Paid in position"),
            choices=[SelectChoice(c.value, COMPONENT_LABELS[c.value]) for c in Component],
        ),
        min_entries=len(Component),
        max_entries=len(Component),
    )

    @classmethod
    def of(cls, policy: Policy) -> PolicyForm:
        """A form showing ``policy``."""
        return cls(formdata=None, data={"base_version": policy.version, **policy.settings()})

    def expected_version(self) -> int | None:
        return self.base_version.data

    def settings(self) -> dict:
        """The submitted policy, shaped for ``save_policy_version``."""
        return {
            "grace_days": self.grace_days.data,
            "late_fee_kind": self.late_fee_kind.data,
            "late_fee_flat_minor": self.late_fee_flat_minor.data,
            "late_fee_bps": self.late_fee_bps.data,
            "penalty_bps_per_day": self.penalty_bps_per_day.data,
            "cap_annual_bps": self.cap_annual_bps.data,
            "waterfall": [entry.data for entry in self.waterfall],
        }


class WaiverForm(FlaskForm):
    """Waive part or all of a loan's late charges, from its case page."""

    amount = StringField(
        _l("Amount to waive"),
        filters=[strip],
        validators=[InputRequired(message=_l("Please enter an amount."))],
    )
    reason = TextAreaField(
        _l("Reason"),
        filters=[strip],
        validators=[
            InputRequired(message=_l("Give a reason for the waiver.")),
            Length(max=MAX_REASON, message=_l("A reason has at most 500 characters.")),
        ],
    )
