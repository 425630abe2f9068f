"""Collections: the daily run, cases, strategies, the work queue, legal escalation, reports.

Subpackages, each with its own ``routes.py`` and blueprint: ``cases``, ``contact_rules``,
``legal``, ``reports``, ``strategy``; ``run`` is the daily run (CLI and task, no routes).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from portal.collections.cli import collections_cli

    app.cli.add_command(collections_cli)

    @app.context_processor
    def contact_rule_helpers():
        from portal.audit.labels import chain_failure_label
        from portal.collections import labels
        from portal.messaging.contact_controls import contact_controls
        from portal.messaging.rulebooks import BUILT_IN

        return {
            "contact_controls_for": contact_controls,
            "rulebook_codes": list(BUILT_IN),
            "hold_labels": labels.HOLD_REASON_LABELS,
            # collections' vocabulary (portal/collections/labels.py) on every page
            "labels": labels,
            "stage_label": labels.stage_label,
            "bucket_label": labels.bucket_label,
            "chain_failure_label": chain_failure_label,
        }
