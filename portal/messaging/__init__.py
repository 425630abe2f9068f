"""Messaging: templates, notices, channels, the outbox and its workers, the contact-rules guard."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from portal.messaging.cli import messaging_cli

    app.cli.add_command(messaging_cli)

    @app.context_processor
    def messaging_vocabulary():
        from portal.messaging import labels

        # messaging's words for codes (portal/messaging/labels.py) on every page
        return {
            "purpose_label": labels.purpose_label,
            "locale_label": labels.locale_label,
            "rulebook_names": labels.RULEBOOK_NAMES,
        }
