from portal import create_app
from tests.conftest import base_config


def test_healthz_reports_ok_with_database(client):
    """GET /healthz answers JSON ok when the database answers."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_is_503_when_database_unreachable(tmp_path):
    """An unreachable database makes /healthz answer 503 naming the database."""
    config = base_config("postgresql+psycopg://nobody@127.0.0.1:1/none")
    app = create_app(config)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "unreachable"}
