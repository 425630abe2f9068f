"""Ids from URLs, query strings and forms: only those the id columns (INTEGER) can hold.

``<int:...>`` in every route uses :class:`IdConverter` (registered by ``create_app``), so an
out-of-range id answers 404 instead of reaching the database (PostgreSQL refuses to compare an
INTEGER column with 2**31, and the driver cannot bind anything beyond 64 bits at all).
"""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1  # primary keys are INTEGER columns
MAX_ID_DIGITS = len(str(MAX_ID))


class IdConverter(IntegerConverter):
    """``<int:...>`` bounded to what an id column holds; anything larger does not match (404)."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def id_or_none(text) -> int | None:
    """An id typed into a query string or form (ASCII digits, in range), else None."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > MAX_ID_DIGITS:
        return None
    value = int(text)
    return value if value <= MAX_ID else None


def init_app(app) -> None:
    app.url_map.converters["int"] = IdConverter
