"""Emergency contacts on the case page: masked numbers with an audited reveal, and asking one
to pass on a message through the contact rules (sent, deferred or blocked, with the rule)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.auth.models import BorrowerProfile, Channel, Role
from portal.extensions import db
from portal.messaging.calls import log_call
from portal.messaging.emergency_contacts.services import add_contact, set_number_opt_out
from portal.messaging.models import CallOutcome, Message, MessageStatus
from tests.collections.conftest import NOW, freeze, make_case
from tests.conftest import csrf_token, login, page_text

CONTACT_PHONE = "+8613900139000"
NIGHT = datetime(2026, 11, 28, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai


@pytest.fixture
def setup(app, make_user, make_loan, monkeypatch):
    """A Shanghai borrower with one emergency contact (Li Wei), an overdue loan, a case assigned
    to a collector, default templates, and the routes' clock at 10:00 Shanghai time."""
    from portal.messaging.default_templates import install_default_templates

    borrower = make_user(Role.BORROWER, locale="en", name="Wang Fang")
    collector = make_user(Role.COLLECTOR, locale="en")
    with app.app_context():
        db.session.get_one(BorrowerProfile, borrower.id).phone = "+8613800138000"
        install_default_templates(now=NOW)
        contact = add_contact(
            borrower.id,
            name="Li Wei",
            phone=CONTACT_PHONE,
            relationship="sibling",
            now=NOW,
            actor_id=borrower.id,
        )
        db.session.commit()
        contact_id = contact.id
    loan_id = make_loan(borrower.id)
    case_id = make_case(app, borrower_id=borrower.id, loan_id=loan_id, assigned_to=collector.id)
    freeze(monkeypatch, NOW)
    return {
        "borrower": borrower,
        "collector": collector,
        "case_id": case_id,
        "contact_id": contact_id,
    }


@pytest.fixture
def collector(client, setup):
    login(client, setup["collector"])
    return client


def _case_url(setup, suffix: str = "") -> str:
    return f"/staff/collections/cases/{setup['case_id']}{suffix}"


def _ask(client, setup, contact_id: int | None = None):
    contact_id = contact_id or setup["contact_id"]
    token = csrf_token(client, _case_url(setup))
    return client.post(
        _case_url(setup, f"/emergency-contacts/{contact_id}/messages"), data={"csrf_token": token}
    )


def _unreachable(app, borrower_id: int) -> None:
    """Three unanswered calls this morning: unreachable under the CN rulebook."""
    with app.app_context():
        for minutes in (90, 60, 30):
            log_call(
                borrower_id,
                outcome=CallOutcome.NO_ANSWER,
                now=NOW - timedelta(minutes=minutes),
                actor_id=borrower_id,
            )
        db.session.commit()


def _texts(app) -> list[tuple[MessageStatus, str | None, str | None]]:
    with app.app_context():
        return [
            (m.status, m.blocked_rule, m.recipient)
            for m in db.session.scalars(
                select(Message)
                .where(Message.emergency_contact_id.is_not(None))
                .order_by(Message.id)
            )
        ]


def _events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.sequence)
        ).all()
        db.session.expunge_all()
        return list(events)


def test_contacts_are_listed_with_their_number_masked(collector, setup):
    """Name and relationship shown; the number as 139****9000, never in full."""
    response = collector.get(_case_url(setup))

    text = page_text(response)
    assert "Emergency contacts" in text
    assert "Li Wei · Brother or sister" in text
    assert "139****9000" in text
    assert CONTACT_PHONE not in response.get_data(as_text=True)


def test_revealing_a_contacts_number_is_audited(app, collector, setup):
    """The full number for that page view, and a case.pii_revealed event naming the contact."""
    field = f"emergency_phone:{setup['contact_id']}"
    token = csrf_token(collector, _case_url(setup))

    response = collector.post(
        _case_url(setup, "/reveal"), data={"field": field, "csrf_token": token}
    )

    assert response.status_code == 200
    assert CONTACT_PHONE in page_text(response)
    [event] = _events(app, "case.pii_revealed")
    assert event.details == {
        "field": "emergency_phone",
        "emergency_contact_id": setup["contact_id"],
    }


def test_another_borrowers_contact_cannot_be_revealed_or_texted(app, collector, setup, make_user):
    """Its id on this case is not found (404): no number, no message, no audit event."""
    other = make_user(Role.BORROWER)
    with app.app_context():
        theirs = add_contact(
            other.id,
            name="Stranger",
            phone="+8613700137000",
            relationship="friend",
            now=NOW,
            actor_id=other.id,
        )
        db.session.commit()
        theirs_id = theirs.id
    _unreachable(app, setup["borrower"].id)
    token = csrf_token(collector, _case_url(setup))

    revealed = collector.post(
        _case_url(setup, "/reveal"),
        data={"field": f"emergency_phone:{theirs_id}", "csrf_token": token},
    )
    asked = _ask(collector, setup, theirs_id)

    assert (revealed.status_code, asked.status_code) == (404, 404)
    assert "+8613700137000" not in revealed.get_data(as_text=True)
    assert _texts(app) == []
    assert _events(app, "case.pii_revealed") == []
    assert _events(app, "case.emergency_contact_messaged") == []


def test_cn_blocks_the_text_while_the_borrower_is_reachable(app, collector, setup):
    """Blocked, the collector is told which rule, and the attempt is audited with it."""
    response = _ask(collector, setup)

    assert response.status_code == 303
    assert _texts(app) == [(MessageStatus.BLOCKED, "third_party_borrower_reachable", CONTACT_PHONE)]
    text = page_text(collector.get(_case_url(setup)))
    assert "The message was blocked by the contact rules (the borrower is reachable)." in text
    [event] = _events(app, "case.emergency_contact_messaged")
    assert event.object_id == str(setup["case_id"])
    assert event.details["result"] == "blocked"
    assert event.details["rule"] == "third_party_borrower_reachable"
    assert event.details["emergency_contact_id"] == setup["contact_id"]


def test_cn_queues_the_text_once_a_day_when_the_borrower_is_unreachable(app, collector, setup):
    """Queued to the contact's number; asking again the same day queues nothing new."""
    _unreachable(app, setup["borrower"].id)

    first = _ask(collector, setup)
    assert "The message is queued and goes out in a moment." in page_text(
        collector.get(first.headers["Location"])
    )
    _ask(collector, setup)

    assert _texts(app) == [(MessageStatus.QUEUED, None, CONTACT_PHONE)]
    assert "already sent on this channel today" in page_text(collector.get(_case_url(setup)))
    results = [e.details["result"] for e in _events(app, "case.emergency_contact_messaged")]
    assert results == ["queued", "repeated"]
    with app.app_context():
        message = db.session.scalars(select(Message).where(Message.channel == Channel.SMS)).one()
        assert "Li Wei" in message.body_text
        assert "Wang Fang" in message.body_text


def test_at_night_the_text_is_deferred_to_the_morning(app, collector, setup, monkeypatch):
    """23:30 for the borrower: queued for 08:00 their time, and the collector is told so."""
    _unreachable(app, setup["borrower"].id)
    freeze(monkeypatch, NIGHT)

    _ask(collector, setup)

    with app.app_context():
        message = db.session.scalars(select(Message).where(Message.channel == Channel.SMS)).one()
        assert message.status is MessageStatus.QUEUED
        assert message.not_before == datetime(2026, 11, 29, 0, 0, tzinfo=UTC)  # 08:00 Shanghai
    text = page_text(collector.get(_case_url(setup)))
    assert "The message is deferred until" in text
    assert "(outside the contact hours)" in text


def test_us_regulation_f_never_texts_an_emergency_contact(app, collector, setup):
    """Under US_REG_F the text is blocked even for an unreachable borrower."""
    with app.app_context():
        db.session.get_one(BorrowerProfile, setup["borrower"].id).rulebook_code = "US_REG_F"
        db.session.commit()
    _unreachable(app, setup["borrower"].id)

    _ask(collector, setup)

    assert _texts(app) == [(MessageStatus.BLOCKED, "third_party_not_allowed", CONTACT_PHONE)]
    assert "third parties may not be contacted" in page_text(collector.get(_case_url(setup)))


def test_a_contact_who_replied_stop_is_marked_and_blocked(app, collector, setup):
    """The page shows their STOP; a text is blocked with the contact's own opt-out rule."""
    _unreachable(app, setup["borrower"].id)
    with app.app_context():
        set_number_opt_out(CONTACT_PHONE, True, now=NOW, source="sms_stop")
        db.session.commit()

    assert "Replied STOP" in page_text(collector.get(_case_url(setup)))
    _ask(collector, setup)

    assert _texts(app) == [(MessageStatus.BLOCKED, "emergency_contact_opt_out", CONTACT_PHONE)]
    assert "the emergency contact asked us to stop texting them" in page_text(
        collector.get(_case_url(setup))
    )


def test_a_collector_who_may_not_open_the_case_cannot_text(app, client, make_user, setup):
    """Another collector's case: 403, nothing written, nothing audited."""
    _unreachable(app, setup["borrower"].id)
    login(client, make_user(Role.COLLECTOR))
    token = csrf_token(client, "/staff/")

    response = client.post(
        _case_url(setup, f"/emergency-contacts/{setup['contact_id']}/messages"),
        data={"csrf_token": token},
    )

    assert response.status_code == 403
    assert _texts(app) == []
    assert _events(app, "case.emergency_contact_messaged") == []


def test_borrowers_and_agents_are_refused(app, client, make_user, setup):
    """Only collectors and admins reach the action (403 for the others)."""
    for role in (Role.BORROWER, Role.AGENT):
        login(client, make_user(role))
        token = csrf_token(client, "/settings/contact" if role is Role.BORROWER else "/staff/")
        response = client.post(
            _case_url(setup, f"/emergency-contacts/{setup['contact_id']}/messages"),
            data={"csrf_token": token},
        )
        assert response.status_code == 403
        client.post("/logout", data={"csrf_token": token})
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Message)) == 0
