"""The support inbox: live chat and two-way SMS in one agent console (issue 12)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the Socket.IO handlers (the ``/support`` namespace)."""
    import portal.support.events  # noqa: F401  (side effect: handlers on the socketio object)
