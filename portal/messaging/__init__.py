"""Messaging: templates, notices, channels, the outbox and its workers, the contact-rules guard."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from portal.messaging.cli import messaging_cli

    app.cli.add_command(messaging_cli)
    # Blueprints of this capability (one line each):
    from portal.messaging.unsubscribe_routes import bp as unsubscribe_bp

    app.register_blueprint(unsubscribe_bp)
    from portal.messaging.notice_routes import bp as notices_bp

    app.register_blueprint(notices_bp)
    from portal.messaging.webhooks import bp as sms_webhooks_bp

    app.register_blueprint(sms_webhooks_bp)
    from portal.messaging.preference_routes import bp as contact_settings_bp

    app.register_blueprint(contact_settings_bp)
    from portal.messaging.emergency_contact_routes import bp as emergency_contacts_bp

    app.register_blueprint(emergency_contacts_bp)
    from portal.messaging.staff import bp as messaging_staff_bp

    app.register_blueprint(messaging_staff_bp)
