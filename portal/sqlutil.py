"""SQL helpers shared by capabilities: portable date arithmetic, affected-row counts."""

from __future__ import annotations

from datetime import date
from typing import cast as type_cast

from sqlalchemy import CursorResult, Date, Integer, Result, cast, func, literal
from sqlalchemy.sql.elements import ColumnElement

from portal.extensions import db


def days_since(as_of: date, column) -> ColumnElement[int]:
    """Whole days from ``column`` (a DATE) to ``as_of``: positive when the column is earlier."""
    if db.engine.dialect.name == "postgresql":
        return literal(as_of, Date) - column
    return cast(func.julianday(literal(as_of.isoformat())) - func.julianday(column), Integer)


def rows_affected(result: Result) -> int:
    """How many rows an INSERT, UPDATE or DELETE touched."""
    return type_cast(CursorResult, result).rowcount or 0
