"""Collections: the daily run, cases, strategies, the work queue, legal escalation, reports."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from portal.collections.cli import collections_cli

    app.cli.add_command(collections_cli)
    # Blueprints of this capability (one line each):
    from portal.collections.legal_routes import bp as collections_legal_bp

    app.register_blueprint(collections_legal_bp)
    from portal.collections.queue_routes import bp as collections_staff_bp

    app.register_blueprint(collections_staff_bp)
    from portal.collections.report_routes import bp as collections_reports_bp

    app.register_blueprint(collections_reports_bp)
    from portal.collections.strategy_routes import bp as collections_strategy_bp

    app.register_blueprint(collections_strategy_bp)
