"""The strategy page's form: the grace period, the buckets (with spare rows) and the stages.

The form checks shape (whole numbers of days, lengths, choices); ``services`` checks meaning
and lists what is wrong in ``InvalidStrategy``.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import InputRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget, TextInput

from portal.collections.strategy.services import CHANNELS, Strategy, is_stage_purpose
from portal.converters import id_or_none
from portal.forms import WholeNumberField, strip
from portal.messaging.labels import CHANNEL_LABELS
from portal.messaging.purposes import PURPOSES

BUCKET_NAME_MAX = 20  # the size of the bucket columns the run writes
SPARE_BUCKET_ROWS = 2
MAX_BUCKETS = 12
MAX_DAYS_DIGITS = 5


class DaysField(WholeNumberField):
    """A whole number of days; empty is None. A text input, so what was typed is shown again
    as typed when it is not a number (a number input would blank it)."""

    widget = TextInput()

    def process_formdata(self, valuelist):
        text = valuelist[0].strip() if valuelist and valuelist[0] else ""
        self.data = None
        if not text:
            return
        if not (text.isascii() and text.isdigit()) or len(text) > MAX_DAYS_DIGITS:
            raise ValueError(_("Enter a whole number of days, such as 30."))
        self.data = int(text)


def _required():
    return InputRequired(message=_l("Please enter a number."))


class BucketForm(Form):
    name = StringField(
        _l("Name"),
        filters=[strip],
        validators=[
            Length(
                max=BUCKET_NAME_MAX,
                message=_l("At most %(max)d characters.", max=BUCKET_NAME_MAX),
            )
        ],
    )
    min_dpd = DaysField(_l("From (days past due)"))
    max_dpd = DaysField(_l("To (empty: no end)"))

    def is_blank(self) -> bool:
        """A spare row left empty (nothing typed in any of its fields)."""
        typed = [field.raw_data[0] for field in self if field.raw_data]
        return not any(text.strip() for text in typed)


class StageForm(Form):
    entry_dpd = DaysField(_l("Entry at days past due"), validators=[_required()])
    channels = SelectMultipleField(
        _l("Channels"),
        choices=[SelectChoice(c, CHANNEL_LABELS.get(c, c)) for c in CHANNELS],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    cadence_days = DaysField(_l("Contact every (days)"), validators=[_required()])
    purpose = SelectField(
        _l("Message"),
        choices=[
            SelectChoice(p.code, p.label) for p in PURPOSES.values() if is_stage_purpose(p.code)
        ],
    )


class StrategyForm(FlaskForm):
    base_version = HiddenField()
    grace_days = DaysField(_l("Grace period (days)"), validators=[_required()])
    buckets = FieldList(FormField(BucketForm), min_entries=1, max_entries=MAX_BUCKETS)
    stages = FieldList(FormField(StageForm), min_entries=4, max_entries=4)

    @classmethod
    def of(cls, strategy: Strategy) -> StrategyForm:
        """A form showing ``strategy``, with spare rows for new buckets."""
        stages = sorted(strategy.settings["stages"], key=lambda s: s["stage"])
        form = cls(
            formdata=None,
            data={
                "base_version": str(strategy.version),
                "grace_days": strategy.grace_days,
                "buckets": [*strategy.buckets, *[{}] * SPARE_BUCKET_ROWS],
                "stages": stages,
            },
        )
        for entry, stage in zip(form.stages, stages, strict=False):
            offer_purpose(entry.form.purpose, stage.get("purpose"))
        return form

    def expected_version(self) -> int | None:
        text = self.base_version.data or ""
        return id_or_none(text)

    def settings(self) -> dict:
        """The submitted strategy, shaped for ``save_strategy``; blank bucket rows are dropped."""
        return {
            "grace_days": self.grace_days.data,
            "buckets": [
                {
                    "name": row.form.name.data or "",
                    "min_dpd": row.form.min_dpd.data,
                    "max_dpd": row.form.max_dpd.data,
                }
                for row in self.buckets
                if not row.form.is_blank()
            ],
            "stages": [
                {
                    "stage": number,
                    "entry_dpd": row.form.entry_dpd.data,
                    "channels": [c for c in CHANNELS if c in (row.form.channels.data or [])],
                    "cadence_days": row.form.cadence_days.data,
                    "purpose": row.form.purpose.data,
                }
                for number, row in enumerate(self.stages, start=1)
            ],
        }


def offer_purpose(field: SelectField, code: str | None) -> None:
    """Keep a saved or submitted purpose selectable, so that the strategy's own check (which
    refuses purposes a stage cannot use) explains the problem instead of a bare "not a choice"."""
    if code and code not in {choice.value for choice in field.choices or []}:
        label = PURPOSES[code].label if code in PURPOSES else code
        field.choices = [*(field.choices or []), SelectChoice(code, label)]
