"""Column types shared by every capability's models."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import DateTime, Enum
from sqlalchemy.types import TypeDecorator


def enum_column(enum_class: type[enum.StrEnum], name: str) -> Enum:
    """A portable enum column: VARCHAR plus a CHECK of the allowed values, stored by value."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(member.value) for member in enum_class) + 8,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every database.

    PostgreSQL keeps ``timestamptz``; SQLite has no time zones, so values are stored as naive
    UTC and made aware again on the way out. Naive datetimes are refused on the way in.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):  # type: ignore[override]
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store times as aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):  # type: ignore[override]
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def render_migration_type(type_, obj, autogen_context):
    """Write portable types into migrations, so migrations never import application code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False
