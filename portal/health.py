"""``GET /healthz``: is the portal up and can it reach what it depends on?

Redis is a dependency only when ``REDIS_URL`` is set: then several processes share chat rooms
(and Celery its queue) through it, so an unreachable Redis makes the deployment unhealthy.
"""

import redis
from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from portal.extensions import db

bp = Blueprint("health", __name__)

# Short, so a dead Redis makes /healthz answer 503 quickly rather than hang the probe.
REDIS_PING_TIMEOUT_SECONDS = 1.0


@bp.get("/healthz")
def healthz():
    checks = {"status": "ok", "database": "ok", "redis": "not used"}
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as error:  # any failure to reach the database is "unhealthy"
        db.session.rollback()
        current_app.logger.warning("Health check: database unreachable: %s", error)
        checks.update(status="unavailable", database="unreachable")
    redis_url = current_app.config.get("REDIS_URL")
    if redis_url:
        checks["redis"] = "ok" if _redis_answers(redis_url) else "unreachable"
        if checks["redis"] != "ok":
            checks["status"] = "unavailable"
    return jsonify(checks), (200 if checks["status"] == "ok" else 503)


def _redis_answers(url: str) -> bool:
    client = redis.Redis.from_url(
        url,
        socket_connect_timeout=REDIS_PING_TIMEOUT_SECONDS,
        socket_timeout=REDIS_PING_TIMEOUT_SECONDS,
    )
    try:
        return bool(client.ping())
    except redis.RedisError as error:
        current_app.logger.warning("Health check: Redis unreachable: %s", error)
        return False
    finally:
        client.close()
