"""The inbox's forms: the borrower's topic choice and rating, the agent's console actions."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from portal.forms import choices, keep_text
from portal.support.labels import PRESENCE_LABELS, TOPIC_LABELS
from portal.support.models import MAX_RATING_COMMENT_LENGTH

RATINGS = {str(n): str(n) for n in range(1, 6)}


class StartChatForm(FlaskForm):
    topic = RadioField(
        _l("What would you like to talk about?"),
        choices=choices({topic.value: label for topic, label in TOPIC_LABELS.items()}),
        validators=[DataRequired(message=_l("Choose a topic."))],
    )


class RatingForm(FlaskForm):
    rating = RadioField(
        _l("How did we do? (1 poor, 5 excellent)"),
        choices=choices(RATINGS),
        validators=[DataRequired(message=_l("Choose a rating from 1 to 5."))],
    )
    comment = TextAreaField(
        _l("Anything to add? (optional)"),
        filters=[keep_text],
        validators=[
            Length(
                max=MAX_RATING_COMMENT_LENGTH,
                message=_l("At most %(max)d characters.", max=MAX_RATING_COMMENT_LENGTH),
            )
        ],
    )


class TransferForm(FlaskForm):
    # "queue" or an agent's id; the choices are filled in by the route.
    to = SelectField(_l("Transfer to"), choices=[], validate_choice=True)


class PresenceForm(FlaskForm):
    presence = SelectField(
        _l("My status"),
        choices=choices({p.value: label for p, label in PRESENCE_LABELS.items()}),
    )
