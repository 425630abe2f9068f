"""Settle: the application factory."""

from __future__ import annotations

import os
from collections.abc import Mapping

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.config import load_config, validate


def create_app(config: Mapping | None = None) -> Flask:
    """Build the portal. ``config`` overrides settings read from the environment (tests use it)."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    app.config.update(load_config(os.environ, app.instance_path))
    if config:
        app.config.update(config)
    validate(app.config)
    os.makedirs(app.instance_path, exist_ok=True)

    _init_extensions(app)
    _register_features(app)
    if hops := app.config["TRUSTED_PROXIES"]:
        # Believe that many proxies' X-Forwarded-For/Proto/Host: remote_addr becomes the
        # client's address (sign-in limiter, audit log) and url_for sees https and the host.
        # Outermost, so that Socket.IO's middleware (set up above) sees the client too.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    return app


def _init_extensions(app: Flask) -> None:
    from portal.database import configure_engines
    from portal.dbtypes import render_migration_type
    from portal.extensions import babel, csrf, db, limiter, migrate, socketio
    from portal.i18n import select_locale, select_timezone

    db.init_app(app)
    configure_engines(app)
    migrate.init_app(
        app,
        db,
        directory=os.path.join(app.root_path, "..", "migrations"),
        render_as_batch=True,  # SQLite alters tables by copying them
        render_item=render_migration_type,
    )
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    limiter.init_app(app)
    # Socket.IO handlers are registered on the shared ``socketio`` object before its first
    # init_app, which hands them to each app's server (imported later, they would reach only
    # the server of the app being built).
    import portal.support.events  # noqa: F401

    queue = app.config["REDIS_URL"]
    socketio.init_app(
        app,
        message_queue=queue,
        async_mode=app.config.get("SOCKETIO_ASYNC_MODE", "threading"),
        # None: the portal's own origin only (python-engineio's check); never "*".
        cors_allowed_origins=app.config["SOCKETIO_ALLOWED_ORIGINS"] or None,
        # The one SocketIO object keeps its options across init_app calls (a process that
        # builds several apps, as the tests do): without a queue, say so, or the Redis manager
        # of an app built earlier would carry this app's messages.
        **({} if queue else {"client_manager": None}),
    )


def _register_features(app: Flask) -> None:
    import portal.models  # noqa: F401  (side effect: every model known to SQLAlchemy, Alembic)
    from portal import (
        auth,
        collections,
        converters,
        errors,
        messaging,
        security_headers,
        templating,
        workers,
    )
    from portal.audit.cli import audit_cli
    from portal.demo import demo_cli
    from portal.hardship.storage import UploadAwareRequest
    from portal.i18n import remember_lang_parameter
    from portal.input_guard import refuse_control_characters
    from portal.payments.cli import payments_cli

    converters.init_app(app)  # before any blueprint: every <int:...> is a bounded id
    app.request_class = UploadAwareRequest
    app.before_request(refuse_control_characters)
    auth.init_app(app)
    errors.init_app(app)
    security_headers.init_app(app)
    templating.init_app(app)
    messaging.init_app(app)
    collections.init_app(app)
    workers.init_app(app)
    app.before_request(remember_lang_parameter)
    _register_blueprints(app)
    app.cli.add_command(audit_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(payments_cli)


def _register_blueprints(app: Flask) -> None:
    """Every blueprint of the portal, in one list: the only place that imports routes modules."""
    from portal.auth.routes import bp as auth
    from portal.collections.cases.routes import bp as collections_cases
    from portal.collections.contact_rules.routes import bp as collections_contact_rules
    from portal.collections.legal.routes import bp as collections_legal
    from portal.collections.reports.routes import bp as collections_reports
    from portal.collections.strategy.routes import bp as collections_strategy
    from portal.complaints.chat_routes import bp as complaints_from_chat
    from portal.complaints.report_routes import bp as complaints_reports
    from portal.complaints.routes import bp as complaints
    from portal.complaints.staff_routes import bp as complaints_staff
    from portal.hardship.routes import bp as hardship
    from portal.health import bp as health
    from portal.i18n import bp as i18n
    from portal.loans.charges.routes import bp as loans_charges
    from portal.loans.routes import bp as loans
    from portal.messaging.emergency_contacts.routes import bp as messaging_emergency_contacts
    from portal.messaging.notices.routes import bp as messaging_notices
    from portal.messaging.preferences.routes import bp as messaging_preferences
    from portal.messaging.sms.routes import bp as messaging_sms
    from portal.messaging.staff.log.routes import bp as messaging_staff_log
    from portal.messaging.staff.rulebooks.routes import bp as messaging_staff_rulebooks
    from portal.messaging.staff.templates.routes import bp as messaging_staff_templates
    from portal.messaging.staff.terms.routes import bp as messaging_staff_terms
    from portal.messaging.unsubscribe.routes import bp as messaging_unsubscribe
    from portal.payments.issues.routes import bp as payments_issues
    from portal.payments.receipts.routes import bp as payments_receipts
    from portal.payments.routes import bp as payments
    from portal.payments.staff.routes import bp as payments_staff
    from portal.payments.webhooks.routes import bp as payments_webhooks
    from portal.plans.routes import bp as plans
    from portal.plans.staff_routes import bp as plans_staff
    from portal.staff.routes import bp as staff
    from portal.support.routes import bp as support
    from portal.support.staff_routes import bp as support_staff

    for blueprint in (
        auth,
        health,
        i18n,
        loans,
        loans_charges,
        plans,
        plans_staff,
        staff,
        messaging_notices,
        messaging_preferences,
        messaging_emergency_contacts,
        messaging_unsubscribe,
        messaging_sms,
        messaging_staff_templates,
        messaging_staff_terms,
        messaging_staff_rulebooks,
        messaging_staff_log,
        collections_cases,
        collections_legal,
        collections_reports,
        collections_strategy,
        complaints,
        complaints_staff,
        complaints_from_chat,
        complaints_reports,
        collections_contact_rules,
        payments,
        payments_webhooks,
        payments_staff,
        payments_receipts,
        payments_issues,
        hardship,
        support,
        support_staff,
    ):
        app.register_blueprint(blueprint)
