from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.auth.models import BorrowerProfile, Role
from portal.collections.models import CollectionCase
from portal.collections.run import run_collections
from portal.extensions import db
from portal.messaging.models import ContactHold
from tests.conftest import csrf_token, login, page_text


@pytest.fixture
def case_id(app, make_user, make_loan):
    """An open case on a loan 40 days overdue (today in the lender's zone)."""
    from portal.timeutil import local_today, utcnow

    now = utcnow()
    today = local_today("Asia/Shanghai", now)
    borrower = make_user(locale="en")
    make_loan(borrower.id, disbursed_on=today - timedelta(days=70), terms=3)
    with app.app_context():
        run_collections(today, now=now, contacts=False)
        return db.session.scalar(select(CollectionCase.id))


def _post(client, case_id, path, **data):
    token = csrf_token(client, f"/staff/collections/cases/{case_id}")
    return client.post(
        f"/staff/collections/cases/{case_id}/contact/{path}", data={"csrf_token": token, **data}
    )


def _profile(app, case_id):
    with app.app_context():
        case = db.session.get(CollectionCase, case_id)
        return db.session.get(BorrowerProfile, case.borrower_id)


def test_admin_stops_and_resumes_contact_audited(app, client, make_user, case_id):
    """An admin sets 'cease contact'; it shows on the case page and is audited."""
    login(client, make_user(Role.ADMIN, locale="en"))
    assert _post(client, case_id, "cease", cease="1").status_code == 303
    assert _profile(app, case_id).cease_contact is True
    assert "Stopped" in page_text(client.get(f"/staff/collections/cases/{case_id}"))
    _post(client, case_id, "cease", cease="0")
    assert _profile(app, case_id).cease_contact is False
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "contact.cease_set" in actions
    assert "contact.cease_lifted" in actions


def test_holds_open_and_close(app, client, make_user, case_id):
    """An admin opens a dispute hold and closes it again."""
    login(client, make_user(Role.ADMIN, locale="en"))
    _post(client, case_id, "holds", reason="dispute", note="Borrower disputes the fee")
    with app.app_context():
        hold = db.session.scalars(select(ContactHold)).one()
        assert (hold.reason.value, hold.closed_at) == ("dispute", None)
        hold_id = hold.id
    assert "Dispute" in page_text(client.get(f"/staff/collections/cases/{case_id}"))
    _post(client, case_id, f"holds/{hold_id}/close")
    with app.app_context():
        assert db.session.get(ContactHold, hold_id).closed_at is not None


def test_rulebook_override_and_unknown_code(app, client, make_user, case_id):
    """The borrower's rulebook can be set to US_REG_F; an unknown code is refused."""
    login(client, make_user(Role.ADMIN, locale="en"))
    _post(client, case_id, "rulebook", code="US_REG_F")
    assert _profile(app, case_id).rulebook_code == "US_REG_F"
    assert _post(client, case_id, "rulebook", code="XX").status_code == 422
    assert _profile(app, case_id).rulebook_code == "US_REG_F"


def test_collectors_cannot_change_contact_rules(app, client, make_user, case_id):
    """Collectors see the panel but cannot change it (403), and nothing changes."""
    login(client, make_user(Role.COLLECTOR, locale="en"))
    token = csrf_token(client, "/staff/")
    response = client.post(
        f"/staff/collections/cases/{case_id}/contact/cease",
        data={"cease": "1", "csrf_token": token},
    )
    assert response.status_code == 403
    assert _profile(app, case_id).cease_contact is False


def test_missing_csrf_changes_nothing(app, client, make_user, case_id):
    """A forged form without its token is refused."""
    login(client, make_user(Role.ADMIN, locale="en"))
    response = client.post(f"/staff/collections/cases/{case_id}/contact/cease", data={"cease": "1"})
    assert response.status_code == 400
    assert _profile(app, case_id).cease_contact is False
