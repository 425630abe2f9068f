"""Words for why ``audit verify`` found the chain broken, in the reader's language.

The verifier records its reason in plain English (the CLI prints it, evidence manifests keep it);
pages show it through :func:`chain_failure_label`. An unknown reason is shown as recorded.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

CHAIN_FAILURE_LABELS = {
    "missing event": _l("an event is missing"),
    "previous hash does not match": _l("an event does not follow the one before it"),
    "event not signed with the audit key": _l("an event is not signed with the audit key"),
    "content does not match its hash": _l("an event was changed after it was written"),
    "events missing after the last one": _l("events are missing at the end of the log"),
    "the chain head does not match the last event": _l(
        "the end of the log does not match its last event"
    ),
    "event changed after it was verified": _l("an event was changed after it was verified"),
    "the chain head is missing": _l("the end of the log is missing"),
}
_CUT = re.compile(r"^the chain ends at event (\d+), but was verified up to (\d+)$")


def chain_failure_label(reason: str | None) -> str:
    """``reason`` as the verifier recorded it, in words for the reader."""
    if not reason:
        return ""
    cut = _CUT.match(reason)
    if cut:
        return _(
            "the log ends at event %(end)s, but was verified up to event %(verified)s",
            end=cut.group(1),
            verified=cut.group(2),
        )
    return str(CHAIN_FAILURE_LABELS.get(reason, reason))
