"""Emergency contacts: adding and removing them, and texting one only as the guard allows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.auth.models import BorrowerProfile, Channel, Role
from portal.domain import NotFound
from portal.extensions import db
from portal.messaging.calls import log_call
from portal.messaging.dispatch import dispatch_due
from portal.messaging.emergency_contacts.services import (
    MAX_CONTACTS,
    DuplicateContact,
    EmergencyContactNotFound,
    InvalidName,
    InvalidPhone,
    OwnNumber,
    TooManyContacts,
    UnknownRelationship,
    active_contacts,
    add_contact,
    normalize_phone,
    phone_region,
    remove_contact,
    set_number_opt_out,
)
from portal.messaging.models import CallOutcome, EmergencyContact, MessageStatus
from portal.messaging.outbox import enqueue
from portal.messaging.rulebooks import BUILT_IN
from tests.messaging.conftest import NOON_SHANGHAI

NOW = NOON_SHANGHAI
OWN_PHONE = "+8613800000001"
FRIEND = "+8613900000002"


@pytest.fixture
def borrower(app_ctx, make_user, templates_installed):
    account = make_user(locale="en", name="Wang Fang")
    db.session.get_one(BorrowerProfile, account.id).phone = OWN_PHONE
    db.session.commit()
    return account


def _add(borrower_id: int, phone: str = FRIEND, **overrides) -> EmergencyContact:
    fields = {"name": "Li Wei", "relationship": "friend", **overrides}
    contact = add_contact(borrower_id, phone=phone, now=NOW, actor_id=borrower_id, **fields)
    db.session.commit()
    return contact


def _events(action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.sequence)
        )
    )


def _unreachable(borrower_id: int, now=NOW) -> None:
    """Three unanswered calls this week: the CN rulebook calls the borrower unreachable."""
    for minutes in (30, 20, 10):
        log_call(
            borrower_id,
            outcome=CallOutcome.NO_ANSWER,
            now=now - timedelta(minutes=minutes),
            actor_id=borrower_id,
        )
    db.session.commit()


def _text(borrower_id: int, contact_id: int, now=NOW):
    message = enqueue(
        borrower_id=borrower_id,
        purpose_code="third_party_locate",
        channel=Channel.SMS,
        variables={"contact_name": "Li Wei"},
        now=now,
        emergency_contact_id=contact_id,
    )
    db.session.commit()
    return message


# Adding and removing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("+8613900000002", "+8613900000002"),
        (" +86 139-0000-0002 ", "+8613900000002"),
        ("+1 (415) 555.0100", "+14155550100"),
        ("13900000002", None),  # no country code
        ("+0861390000000", None),  # country codes never start with 0
        ("+86139", None),  # too short
        ("+8613900000002123", None),  # more than 15 digits
        ("+86 139 abc", None),
        ("", None),
    ],
)
def test_phone_numbers_are_read_as_e164(typed, expected):
    """Spaces, dashes, dots and brackets are dropped; the rest must be +, 8 to 15 digits."""
    assert normalize_phone(typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("13900000002", "+8613900000002"),
        ("139 0000 0002", "+8613900000002"),
        ("139-0000-0002", "+8613900000002"),
        ("+1 415 555 0100", "+14155550100"),  # a country code still wins
        ("12900000002", None),  # mainland mobile numbers start 13-19
        ("1390000000", None),  # 10 digits
        ("139000000021", None),  # 12 digits
        ("02112345678", None),  # a landline with its area code: not a mobile number
    ],
)
def test_in_china_a_mainland_mobile_number_needs_no_country_code(typed, expected):
    """Region CN: 11 digits 1[3-9]... become +86...; other regions still need the code."""
    assert normalize_phone(typed, "CN") == expected
    assert normalize_phone(typed) == (expected if typed.startswith("+") else None)


@pytest.mark.parametrize(
    ("locale", "default_timezone", "region"),
    [
        ("zh_CN", "America/New_York", "CN"),
        ("en", "Asia/Shanghai", None),
        (None, "Asia/Shanghai", "CN"),
        (None, "America/New_York", None),
    ],
)
def test_the_phone_region_is_the_locale_else_the_portal_time_zone(
    app, app_ctx, locale, default_timezone, region
):
    """A Chinese locale means China; no locale, the portal's own time zone decides."""
    app.config["DEFAULT_TIMEZONE"] = default_timezone
    assert phone_region(locale) == region


def test_a_chinese_borrowers_contact_typed_without_86_is_stored_in_e164(app_ctx, make_user):
    account = make_user(locale="zh_CN")
    assert _add(account.id, phone="139 0000 0002").phone == "+8613900000002"


def test_a_contact_is_added_with_a_normalised_number_and_audited(borrower):
    """Stored in E.164; the audit event names the contact's id and relationship, no PII."""
    contact = _add(borrower.id, phone="+86 139 0000 0002")

    assert (contact.name, contact.phone, contact.relationship_to_borrower) == (
        "Li Wei",
        FRIEND,
        "friend",
    )
    assert contact.opted_out_at is None
    [event] = _events("emergency_contact.added")
    assert (event.actor_id, event.object_type, event.object_id) == (
        borrower.id,
        "borrower",
        str(borrower.id),
    )
    assert event.details == {"emergency_contact_id": contact.id, "relationship": "friend"}


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"phone": "13900000002"}, InvalidPhone),
        ({"phone": OWN_PHONE}, OwnNumber),
        ({"relationship": "boss"}, UnknownRelationship),
        ({"name": "   "}, InvalidName),
        ({"name": "x" * 121}, InvalidName),
    ],
)
def test_invalid_contacts_are_refused(borrower, overrides, error):
    """Each refusal names its field; nothing is stored or audited."""
    with pytest.raises(error) as raised:
        _add(borrower.id, **overrides)

    db.session.rollback()
    assert raised.value.field in ("phone", "relationship", "name")
    assert active_contacts(borrower.id) == []
    assert _events("emergency_contact.added") == []


def test_at_most_three_contacts_and_no_number_twice(borrower):
    """A fourth contact is refused, and so is a number already named."""
    for n in range(MAX_CONTACTS):
        _add(borrower.id, phone=f"+861390000001{n}")

    with pytest.raises(DuplicateContact):
        _add(borrower.id, phone="+8613900000010")
    with pytest.raises(TooManyContacts):
        _add(borrower.id, phone="+8613900000099")
    db.session.rollback()
    assert len(active_contacts(borrower.id)) == MAX_CONTACTS


def test_removing_keeps_the_row_frees_the_slot_and_is_audited(borrower):
    """The contact leaves the list (a new one fits again) but its row stays for the record."""
    contacts = [_add(borrower.id, phone=f"+861390000001{n}") for n in range(MAX_CONTACTS)]

    remove_contact(borrower.id, contacts[0].id, now=NOW, actor_id=borrower.id)
    db.session.commit()

    assert [c.id for c in active_contacts(borrower.id)] == [c.id for c in contacts[1:]]
    assert db.session.get_one(EmergencyContact, contacts[0].id).removed_at == NOW
    [event] = _events("emergency_contact.removed")
    assert event.details == {"emergency_contact_id": contacts[0].id}
    _add(borrower.id, phone="+8613900000099")
    with pytest.raises(EmergencyContactNotFound):
        remove_contact(borrower.id, contacts[0].id, now=NOW, actor_id=borrower.id)


def test_a_borrower_cannot_remove_someone_elses_contact(borrower, make_user):
    """Another borrower's contact id is not found (404), and stays."""
    other = make_user(Role.BORROWER)
    theirs = _add(other.id)

    with pytest.raises(EmergencyContactNotFound) as raised:
        remove_contact(borrower.id, theirs.id, now=NOW, actor_id=borrower.id)

    assert raised.value.status_code == 404
    db.session.rollback()
    assert [c.id for c in active_contacts(other.id)] == [theirs.id]


def test_a_number_that_said_stop_stays_opted_out_when_named_again(borrower, make_user):
    """STOP belongs to the number: naming it again (by anyone) does not undo it."""
    first = _add(borrower.id)
    set_number_opt_out(FRIEND, True, now=NOW, source="sms_stop")
    remove_contact(borrower.id, first.id, now=NOW, actor_id=borrower.id)
    db.session.commit()

    again = _add(borrower.id)
    elsewhere = _add(make_user(Role.BORROWER).id)

    assert again.opted_out_at == NOW
    assert elsewhere.opted_out_at == NOW


# Texting a contact through the guard ---------------------------------------------------------


def test_cn_texts_a_contact_only_when_the_borrower_is_unreachable(borrower):
    """Reachable: blocked with its rule. After three unanswered calls: queued to their number."""
    contact = _add(borrower.id)

    reachable = _text(borrower.id, contact.id)
    assert (reachable.status, reachable.blocked_rule) == (
        MessageStatus.BLOCKED,
        "third_party_borrower_reachable",
    )

    _unreachable(borrower.id)
    message = _text(borrower.id, contact.id)

    assert message.status is MessageStatus.QUEUED
    assert (message.recipient, message.emergency_contact_id) == (FRIEND, contact.id)
    assert "Li Wei" in message.body_text
    assert "Wang Fang" in message.body_text


def test_us_regulation_f_never_texts_a_contact(borrower):
    """Under US_REG_F third parties are never contacted, unreachable borrower or not."""
    db.session.get_one(BorrowerProfile, borrower.id).rulebook_code = "US_REG_F"
    db.session.commit()
    assert BUILT_IN["US_REG_F"].third_party_contact == "never"
    contact = _add(borrower.id)
    _unreachable(borrower.id)

    message = _text(borrower.id, contact.id)

    assert (message.status, message.blocked_rule) == (
        MessageStatus.BLOCKED,
        "third_party_not_allowed",
    )


def test_a_contact_who_said_stop_is_blocked_now_and_at_delivery(borrower, spies):
    """A text queued before the STOP is blocked by the worker; a new one is blocked at once."""
    contact = _add(borrower.id)
    _unreachable(borrower.id)
    queued = _text(borrower.id, contact.id)
    assert queued.status is MessageStatus.QUEUED

    assert set_number_opt_out(FRIEND, True, now=NOW, source="sms_stop") == [contact.id]
    db.session.commit()

    report = dispatch_due(lambda: NOW, adapters=spies)
    assert (report.sent, report.blocked) == (0, 1)
    db.session.refresh(queued)
    assert (queued.status, queued.blocked_rule) == (
        MessageStatus.BLOCKED,
        "emergency_contact_opt_out",
    )
    assert _text(borrower.id, contact.id).blocked_rule == "emergency_contact_opt_out"
    assert spies[Channel.SMS].sent == []


def test_removed_contacts_and_other_borrowers_contacts_cannot_be_texted(borrower, make_user):
    """The outbox only writes to the borrower's own current contacts."""
    removed = _add(borrower.id)
    remove_contact(borrower.id, removed.id, now=NOW, actor_id=borrower.id)
    db.session.commit()
    theirs = _add(make_user(Role.BORROWER).id, phone="+8613900000077")

    for contact_id in (removed.id, theirs.id):
        with pytest.raises(NotFound):
            _text(borrower.id, contact_id)
        db.session.rollback()


def test_a_queued_text_to_a_contact_removed_since_is_blocked(borrower, spies):
    """The worker asks again: the number is no longer on file, so nothing goes out."""
    contact = _add(borrower.id)
    _unreachable(borrower.id)
    queued = _text(borrower.id, contact.id)
    remove_contact(borrower.id, contact.id, now=NOW, actor_id=borrower.id)
    db.session.commit()

    assert dispatch_due(lambda: NOW, adapters=spies).blocked == 1
    db.session.refresh(queued)
    assert (queued.status, queued.blocked_rule) == (MessageStatus.BLOCKED, "no_address")
