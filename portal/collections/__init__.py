"""Collections: the daily run, cases, strategies, the work queue, legal escalation, reports."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from portal.collections.cli import collections_cli

    app.cli.add_command(collections_cli)
    # Blueprints of this capability (one line each):
