"""Form helpers every capability's ``forms.py`` shares: filters and choice lists."""

from __future__ import annotations

from wtforms import SelectChoice


def choices(labels: dict) -> list[SelectChoice]:
    """Select options from {value: label}; labels may be lazy (translated when rendered)."""
    return [SelectChoice(value=value, label=label) for value, label in labels.items()]


def strip(value):
    """Filter: surrounding white space removed from text; other values as they are."""
    return value.strip() if isinstance(value, str) else value


def keep_text(value):
    """Filter for textareas: keep the writer's text exactly, but browsers send CRLF; store LF."""
    return value.replace("\r\n", "\n") if isinstance(value, str) else value
