from collections.abc import Iterator

import pytest
from flask import Flask

from portal import create_app
from portal.extensions import db
from tests.conftest import base_config, page_text


@pytest.fixture
def failing_app(database_url) -> Iterator[Flask]:
    app = create_app({**base_config(database_url), "TESTING": False})

    @app.get("/boom")
    def boom():
        raise RuntimeError("bug")

    yield app
    with app.app_context():
        db.engine.dispose()  # close its connections now, not when the collector finds them


def test_404_page_is_localized(client):
    """Unknown pages get a friendly 404 in the visitor's language."""
    zh = client.get("/nowhere")
    assert zh.status_code == 404
    assert "页面不存在" in page_text(zh)
    en = client.get("/nowhere", headers={"Accept-Language": "en"})
    assert "Page not found" in page_text(en)


def test_errors_answer_json_to_json_clients(client):
    """A client that asks for JSON gets a JSON error body."""
    response = client.get("/nowhere", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json()["error"]["status"] == 404


def test_500_page_is_localized_and_hides_the_bug(failing_app):
    """An unexpected error shows a calm localized page, never the traceback."""
    response = failing_app.test_client().get("/boom", headers={"Accept-Language": "en"})
    assert response.status_code == 500
    text = page_text(response)
    assert "Something went wrong" in text
    assert "RuntimeError" not in text


def test_405_for_wrong_method(client):
    assert client.delete("/login").status_code == 405
