"""Two staff members acting on one legal request or case at once, on PostgreSQL: the row locks
make the second one wait and then refuse cleanly, so the change happens exactly once."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

import portal.collections.legal.services as legal_services
from portal.audit.models import AuditEvent
from portal.auth.models import Role
from portal.collections.legal.access import Actor
from portal.collections.legal.errors import AlreadyDecided, RequestPending
from portal.collections.models import CaseTransition, CollectionCase, LegalRequest
from portal.extensions import db
from tests.collections.legal.conftest import (
    NOW,
    only_request,
    open_case,
    request_approval,
    signed_in,
)

pytestmark = pytest.mark.postgres
HOLD = 0.5  # seconds the first one keeps its transaction (and locks) open


def _both_past_the_chain_check(monkeypatch) -> None:
    """Make both threads finish the chain check before either takes a lock, so they collide."""
    barrier = threading.Barrier(2, timeout=10)
    original = legal_services.verify_incrementally

    def verify_then_wait(*args, **kwargs):
        result = original(*args, **kwargs)
        barrier.wait()
        return result

    monkeypatch.setattr(legal_services, "verify_incrementally", verify_then_wait)


def _in_thread(app, action) -> str:
    with app.app_context():
        try:
            action()
            time.sleep(HOLD)
            db.session.commit()
            return "done"
        except (AlreadyDecided, RequestPending) as error:
            db.session.rollback()
            return type(error).__name__
        except Exception as error:  # reported, so the test shows what went wrong
            db.session.rollback()
            return f"error: {type(error).__name__}: {error}"


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_two_admins_approving_at_once_make_one_approval(app, make_user, make_loan, monkeypatch):
    """One 3 -> 4 transition and one approval event; the other admin hears it was decided."""
    case = open_case(app, make_user, make_loan)
    assert request_approval(signed_in(app, case.collector), case).status_code == 303
    admins = [make_user(Role.ADMIN, name=f"Admin {n}") for n in (1, 2)]
    with app.app_context():
        request_id = only_request(case.case_id).id
    _both_past_the_chain_check(monkeypatch)

    def approve_as(admin):
        return lambda: legal_services.decide_request(
            request_id,
            approve=True,
            note="",
            actor=Actor(admin.id, Role.ADMIN, "Admin"),
            now=NOW,
            ip_address=None,
        )

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda a: _in_thread(app, approve_as(a)), admins))
    assert sorted(results) == ["AlreadyDecided", "done"]
    with app.app_context():
        assert (
            _count(CaseTransition, CaseTransition.kind == "stage", CaseTransition.to_stage == 4)
            == 1
        )
        assert _count(AuditEvent, AuditEvent.action == "legal.approved") == 1
        assert db.session.get(CollectionCase, case.case_id).stage == 4
        assert only_request(case.case_id).decided_by in {a.id for a in admins}


def test_two_requests_for_one_case_at_once_make_one_request(app, make_user, make_loan, monkeypatch):
    """Two staff members requesting legal approval together: one request, one refusal."""
    case = open_case(app, make_user, make_loan)
    admin = make_user(Role.ADMIN)
    _both_past_the_chain_check(monkeypatch)
    actors = [Actor(case.collector.id, Role.COLLECTOR, "C"), Actor(admin.id, Role.ADMIN, "A")]

    def request_as(actor):
        return lambda: legal_services.request_legal(
            case.case_id, reason="Escalate.", actor=actor, now=NOW, ip_address=None
        )

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda a: _in_thread(app, request_as(a)), actors))
    assert sorted(results) == ["RequestPending", "done"]
    with app.app_context():
        assert _count(LegalRequest, LegalRequest.case_id == case.case_id) == 1
        assert _count(CaseTransition, CaseTransition.kind == "escalated") == 1
        assert _count(AuditEvent, AuditEvent.action == "legal.requested") == 1
