"""Complaint fixtures: uploads in a temporary folder, a borrower with a loan and an open case
assigned to a collector, handlers, the settings and a filing helper."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from portal.auth.models import Role, User
from portal.complaints.models import ComplaintCategory, ComplaintChannel
from portal.complaints.services import ComplaintSettings, file_complaint
from portal.extensions import db
from tests.collections.conftest import NOW, make_case

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
SETTINGS = ComplaintSettings(timezone="Asia/Shanghai")


@pytest.fixture(autouse=True)
def uploads_in_tmp(app, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    return tmp_path / "uploads" / "complaints"


@dataclass(frozen=True)
class World:
    borrower_id: int
    loan_id: int
    case_id: int
    collector_id: int
    agent_id: int
    admin_id: int
    supervisor_id: int


@pytest.fixture
def world(app, make_user, make_loan) -> World:
    borrower = make_user(Role.BORROWER, locale="en")
    collector = make_user(Role.COLLECTOR, locale="en")
    loan_id = make_loan(borrower.id)
    case_id = make_case(app, borrower_id=borrower.id, loan_id=loan_id, assigned_to=collector.id)
    return World(
        borrower.id,
        loan_id,
        case_id,
        collector.id,
        make_user(Role.AGENT, locale="en").id,
        make_user(Role.ADMIN, locale="en").id,
        make_user(Role.ADMIN, locale="en").id,
    )


def user(user_id: int) -> User:
    return db.session.get(User, user_id)


def file(
    world: World,
    category: ComplaintCategory = ComplaintCategory.COLLECTION_CONDUCT,
    *,
    loan: bool = True,
    uploads=(),
    received_at=NOW,
):
    return file_complaint(
        borrower=user(world.borrower_id),
        category=category,
        description="The collector called me five times at night.",
        loan_id=world.loan_id if loan else None,
        payment_id=None,
        uploads=list(uploads),
        channel=ComplaintChannel.PORTAL,
        received_at=received_at,
        now=received_at,
        settings=SETTINGS,
    )
