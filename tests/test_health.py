import pytest
import redis

from portal import create_app
from tests.conftest import base_config


def test_healthz_reports_ok_with_database(client):
    """GET /healthz answers JSON ok when the database answers; Redis unused without REDIS_URL."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "redis": "not used"}


def test_healthz_is_503_when_database_unreachable(tmp_path):
    """An unreachable database makes /healthz answer 503 naming the database."""
    config = base_config("postgresql+psycopg://nobody@127.0.0.1:1/none")
    app = create_app(config)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "unavailable",
        "database": "unreachable",
        "redis": "not used",
    }


def test_healthz_is_503_when_required_redis_unreachable(app):
    """With REDIS_URL set (a multi-process deployment), a dead Redis makes /healthz 503."""
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "unavailable",
        "database": "ok",
        "redis": "unreachable",
    }


def test_healthz_reports_redis_ok_when_it_answers(app):
    """With REDIS_URL set and Redis answering, /healthz reports it ok."""
    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    app.config["REDIS_URL"] = url
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "redis": "ok"}
