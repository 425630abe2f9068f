"""Messaging: templates, notices, channels, the outbox and its workers, the contact-rules guard."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from portal.messaging.cli import messaging_cli

    app.cli.add_command(messaging_cli)
