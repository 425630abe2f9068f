"""SQL expressions that differ between SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Integer, cast, func, literal
from sqlalchemy.sql.elements import ColumnElement

from portal.extensions import db


def days_since(as_of: date, column) -> ColumnElement[int]:
    """Whole days from ``column`` (a DATE) to ``as_of``: positive when the column is earlier."""
    if db.engine.dialect.name == "postgresql":
        return literal(as_of, Date) - column
    return cast(func.julianday(literal(as_of.isoformat())) - func.julianday(column), Integer)
