"""Forms of the legal pages. They check shape (present, not too long); the services check
meaning (stage, evidence, approval) and refuse on their own whatever a form let through."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import AnyOf, InputRequired, Length, Optional
from wtforms.widgets import HiddenInput

from portal.collections.legal.agency import AGENCY_MAX, NOTE_MAX, STATUS_MAX
from portal.collections.legal.services import REASON_MAX
from portal.forms import IdField, strip


def _too_long(limit: int):
    return Length(max=limit, message=_l("At most %(max)d characters, please.", max=limit))


class LegalRequestForm(FlaskForm):
    reason = TextAreaField(
        _l("Why should this case go to the legal stage?"),
        filters=[strip],
        validators=[
            InputRequired(message=_l("Please give the reason for the request.")),
            _too_long(REASON_MAX),
        ],
    )


class DecisionForm(FlaskForm):
    """Approve or reject one request; the pressed button sends ``decision``."""

    request_id = IdField(widget=HiddenInput(), validators=[InputRequired()])
    decision = HiddenField(validators=[AnyOf(("approve", "reject"))])
    note = TextAreaField(_l("Note"), filters=[strip], validators=[_too_long(NOTE_MAX)])

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if valid and self.decision.data == "reject" and not self.note.data:
            self.note.errors = [_l("Please write a note explaining the rejection.")]
            return False
        return valid


class PlacementForm(FlaskForm):
    agency = StringField(
        _l("Agency"),
        filters=[strip],
        validators=[
            InputRequired(message=_l("Please enter the agency's name.")),
            _too_long(AGENCY_MAX),
        ],
    )


class RecallForm(FlaskForm):
    note = TextAreaField(_l("Note"), filters=[strip], validators=[Optional(), _too_long(NOTE_MAX)])


class AgencyUpdateForm(FlaskForm):
    status = StringField(
        _l("Status reported by the agency"),
        filters=[strip],
        validators=[
            InputRequired(message=_l("Please enter the agency's status.")),
            _too_long(STATUS_MAX),
        ],
    )
    note = TextAreaField(_l("Note"), filters=[strip], validators=[Optional(), _too_long(NOTE_MAX)])
