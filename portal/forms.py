"""Form helpers every capability's ``forms.py`` shares: filters and choice lists."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectChoice, ValidationError

from portal.converters import MAX_ID


def choices(labels: dict) -> list[SelectChoice]:
    """Select options from {value: label}; labels may be lazy (translated when rendered)."""
    return [SelectChoice(value=value, label=label) for value, label in labels.items()]


def strip(value):
    """Filter: surrounding white space removed from text; other values as they are."""
    return value.strip() if isinstance(value, str) else value


def keep_text(value):
    """Filter for textareas: keep the writer's text exactly, but browsers send CRLF; store LF.
    A textarea missing from the post (no browser does that) is empty text, not None."""
    if value is None:
        return ""
    return value.replace("\r\n", "\n") if isinstance(value, str) else value


MAX_WHOLE_NUMBER = MAX_ID  # what an INTEGER column holds, ids or counts


class WholeNumberField(IntegerField):
    """A whole number typed as ASCII digits (``int()`` would also take ``１２`` or ``1_0``),
    at most ``maximum``; anything else is a field error, never a database error."""

    maximum = MAX_WHOLE_NUMBER

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = valuelist[0].strip() if isinstance(valuelist[0], str) else ""
        self.data = None
        if not text:
            return
        digits = text[1:] if text.startswith("-") else text
        if not (digits.isascii() and digits.isdigit()) or len(digits) > len(str(self.maximum)):
            raise ValueError(_l("Please enter a whole number."))
        value = int(text)
        if abs(value) > self.maximum:
            raise ValueError(_l("That number is too large."))
        self.data = value


class IdField(WholeNumberField):
    """A record's id in a form (usually hidden): digits within what an id column holds."""

    maximum = MAX_ID


EARLIEST_YEAR, LATEST_YEAR = 1900, 2200  # beyond: year 1 or 9999 overflow date arithmetic


def sane_date(form, field) -> None:
    """Validator for date and date-time fields: a year between 1900 and 2200."""
    if field.data is not None and not EARLIEST_YEAR <= field.data.year <= LATEST_YEAR:
        raise ValidationError(
            _l(
                "Choose a date between %(start)s and %(end)s.",
                start=EARLIEST_YEAR,
                end=LATEST_YEAR,
            )
        )
