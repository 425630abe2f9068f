"""``GET /healthz``: is the portal up and can it reach its database?"""

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from portal.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    checks = {"status": "ok", "database": "ok"}
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as error:  # any failure to reach the database is "unhealthy"
        db.session.rollback()
        current_app.logger.warning("Health check: database unreachable: %s", error)
        checks.update(status="unavailable", database="unreachable")
        return jsonify(checks), 503
    return jsonify(checks)
