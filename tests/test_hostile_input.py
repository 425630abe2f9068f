"""Hostile input never answers a server error (issue 9 item 9): every route, many forms."""

from __future__ import annotations

import re

import pytest

from portal.auth.models import Role
from tests.conftest import login

OUT_OF_RANGE_IDS = (2**31, 10**30)  # past INTEGER; past what the driver binds


ARGUMENT = re.compile(r"<(?:(\w+):)?(\w+)>")
# Static files, and the routes that would sign the walking client out half-way.
SKIPPED = {"static", "auth.logout", "auth.sign_out_everywhere_self", "auth.login"}
QUERY_NAMES = ("page", "version", "before", "collector", "days", "stage", "id", "user_id")


def _id_paths(app, bad_id: int) -> list[tuple[str, set[str]]]:
    """Every rule but static files: ids replaced by ``bad_id``, other arguments by "x", and
    query parameters that name ids or pages set to ``bad_id`` too."""
    query = "&".join(f"{name}={bad_id}" for name in QUERY_NAMES)
    paths = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED:
            continue
        path = ARGUMENT.sub(lambda m: str(bad_id) if m.group(1) == "int" else "x", rule.rule)
        paths.append((f"{path}?{query}", set(rule.methods or ()) & {"GET", "POST"}))
    return paths


@pytest.mark.parametrize("role", [Role.ADMIN, Role.COLLECTOR, Role.BORROWER])
def test_out_of_range_ids_in_urls_answer_4xx(app, client, make_user, role):
    """Every ``<int:...>`` route with an id beyond 64 bits answers 404 (no 5xx), per role."""
    login(client, make_user(role))
    app.config["WTF_CSRF_ENABLED"] = False
    failures = []
    for bad_id in OUT_OF_RANGE_IDS:
        for path, methods in _id_paths(app, bad_id):
            for method in methods:
                response = client.open(path, method=method, data={"x": "1"})
                response.close()  # a streamed CSV keeps its request context until closed
                if response.status_code >= 500:
                    failures.append((method, path, response.status_code))
    assert not failures
