"""Support inbox fixtures: people (a borrower with a phone, agents, an admin), a fixed clock,
and Socket.IO test clients that share a signed-in Flask test client's session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from portal.auth.models import BorrowerProfile, Role, User
from portal.extensions import db, socketio
from portal.support.broadcast import NAMESPACE
from tests.conftest import Account, login

# 10:00 in Shanghai: inside every rulebook's contact window.
MORNING = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
# 23:00 in Shanghai: quiet hours for texts.
LATE_NIGHT = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
PHONE = "+8613800138000"


@dataclass
class Inbox:
    """A borrower (with a phone), another borrower, two agents and an admin."""

    borrower: Account
    other_borrower: Account
    agent: Account
    other_agent: Account
    admin: Account


@pytest.fixture
def inbox(app, make_user) -> Inbox:
    people = Inbox(
        borrower=make_user(Role.BORROWER, locale="en", name="Bo Rower"),
        other_borrower=make_user(Role.BORROWER, locale="en", name="Other Borrower"),
        agent=make_user(Role.AGENT, locale="en", name="Ann Agent"),
        other_agent=make_user(Role.AGENT, locale="en", name="Ben Agent"),
        admin=make_user(Role.ADMIN, locale="en", name="Ada Admin"),
    )
    with app.app_context():
        db.session.get_one(BorrowerProfile, people.borrower.id).phone = PHONE
        db.session.commit()
    return people


def user(account: Account) -> User:
    """The account's user row, in the current app context."""
    return db.session.get_one(User, account.id)


@pytest.fixture
def socket_for(app):
    """Sign ``account`` in on a fresh Flask test client and connect a Socket.IO test client
    with its session cookie; returns the Socket.IO client (``.flask_client`` is the other)."""
    clients = []

    def connect(account: Account | None):
        flask_client = app.test_client()
        if account is not None:
            login(flask_client, account)
        socket = socketio.test_client(app, namespace=NAMESPACE, flask_test_client=flask_client)
        socket.flask_client = flask_client
        clients.append(socket)
        return socket

    yield connect
    for socket in clients:
        if socket.is_connected(NAMESPACE):
            socket.disconnect(NAMESPACE)


def call(socket, event: str, data) -> dict:
    """Emit ``event`` and return its acknowledgement."""
    return socket.emit(event, data, namespace=NAMESPACE, callback=True)


def received(socket, event: str) -> list:
    """The payloads of ``event`` the client received since the last look."""
    return [p["args"][0] for p in socket.get_received(NAMESPACE) if p["name"] == event]
