"""Refuse control characters in any text a request carries, before any view reads it.

A NUL byte cannot be stored in a PostgreSQL text column (a saved strategy bucket name with one
once made every staff page fail); other control characters, lone surrogates and bidirectional
overrides (which can make a name display as something else) have no place in the portal's text
either. One check for every query string and form, so later features inherit it.
"""

from __future__ import annotations

import re

from flask import request
from flask_babel import gettext as _

from portal.errors import render_error

# C0 controls but tab, LF and CR; DEL and C1 controls; lone surrogates; bidi embeddings,
# overrides and isolates.
FORBIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]"
)


def has_forbidden_characters(text: str) -> bool:
    return FORBIDDEN.search(text) is not None


def refuse_control_characters():
    """``before_request``: 400 with the localized error page when any argument or form field
    (name or value) holds a forbidden character."""
    for values in (request.args, request.form):
        for key, value in values.items(multi=True):
            if has_forbidden_characters(key) or has_forbidden_characters(value):
                return render_error(
                    400,
                    _(
                        "The text you sent contains control characters (such as NUL) or "
                        "direction overrides. Please remove them and try again."
                    ),
                )
    return None
