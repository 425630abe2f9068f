"""The legal pages check the audit chain after authorization, and only its new events."""

import pytest

from portal.auth.models import Role
from tests.audit.conftest import HashCounter, append
from tests.collections.legal.conftest import open_case, signed_in
from tests.conftest import csrf_token


@pytest.fixture
def hashes(monkeypatch):
    return HashCounter(monkeypatch)


def test_viewing_the_legal_page_hashes_only_new_events(app, make_user, make_loan, hashes):
    """Page views after the first hash only the events appended since, however long the log."""
    case = open_case(app, make_user, make_loan)
    collector = signed_in(app, case.collector)
    with app.app_context():
        append(150)
    assert collector.get(case.url()).status_code == 200
    first_view = hashes.take()
    with app.app_context():
        append(4, start=150)
    hashes.take()
    assert collector.get(case.url()).status_code == 200
    assert hashes.take() == 4
    assert collector.get(case.url()).status_code == 200
    assert hashes.take() == 0
    assert first_view >= 150  # the first check walked the log once


@pytest.mark.parametrize("tail", ["request", "bundle.zip"])
def test_an_unauthorized_view_verifies_nothing(app, make_user, make_loan, hashes, tail):
    """Another collector gets 403 before a single event is hashed."""
    case = open_case(app, make_user, make_loan)
    other = signed_in(app, make_user(Role.COLLECTOR, locale="en"))
    hashes.take()
    if tail == "bundle.zip":  # a button: a POST with the token of a page they may open
        token = csrf_token(other, "/staff/reports/overdue")
        hashes.take()
        assert other.post(case.url(tail), data={"csrf_token": token}).status_code == 403
    else:
        assert other.get(case.url(tail)).status_code == 403
    assert hashes.take() == 0
    assert other.get("/staff/collections/cases/999999/legal/request").status_code == 404
    assert hashes.take() == 0
