"""Collections reports: the overdue list and its CSV export, the portfolio dashboard.

Read-only queries, each a fixed number of set-based SQL statements whatever the number of rows.
Also holds the words for stage numbers that the report and strategy pages show.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

STAGE_LABELS = {
    1: _l("Overdue confirmed"),
    2: _l("First contact"),
    3: _l("Follow-up"),
    4: _l("Legal"),
}


def stage_label(number: int | None) -> str:
    """``"2 · First contact"``, in the reader's language; an unknown number is shown as itself."""
    if number is None:
        return ""
    label = STAGE_LABELS.get(number)
    return f"{number} · {label}" if label is not None else str(number)
