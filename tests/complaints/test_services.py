"""Filing and handling complaints: references, clocks, holds, thread, recusal, remedies."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.auth.models import Channel
from portal.complaints import handling
from portal.complaints.lifecycle import NotOpen, ReopenWindowPassed, TransitionRefused
from portal.complaints.models import (
    ComplaintCategory,
    ComplaintEvent,
    ComplaintStatus,
    EventKind,
    ImmutableEvent,
    Remedy,
    RootCause,
)
from portal.complaints.remedies import RemedyRefused, Resolution, resolve
from portal.complaints.services import (
    ComplaintNotFound,
    DescriptionInvalid,
    borrower_reply,
    complaint_for_borrower,
    withdraw,
)
from portal.extensions import db
from portal.hardship.storage import DocumentContentMismatch, Upload
from portal.loans.models import Component, LedgerAdjustment
from portal.messaging.models import ContactHold, HoldReason, Message
from tests.collections.conftest import NOW
from tests.complaints.conftest import PDF, PNG, SETTINGS, file, user
from tests.messaging.conftest import install_defaults

LATER = NOW + timedelta(hours=2)


def test_filing_gives_a_reference_and_starts_the_clocks(app_ctx, world):
    """CMP-<year>-<number>, consecutive; CN clocks from the time received (Shanghai calendar)."""
    first = file(world, ComplaintCategory.SERVICE_QUALITY)
    second = file(world, ComplaintCategory.OTHER)
    assert (first.reference, second.reference) == ("CMP-2026-000001", "CMP-2026-000002")
    assert first.status is ComplaintStatus.SUBMITTED
    assert first.rulebook_code == "CN"
    # Saturday 28 Nov 2026 in Shanghai: acknowledge by Monday, respond by Friday 18 Dec.
    assert first.acknowledge_due_at == datetime(2026, 11, 30, 16, tzinfo=UTC)
    assert first.response_due_at == datetime(2026, 12, 18, 16, tzinfo=UTC)
    assert [e.kind for e in first.events] == [EventKind.FILED]


def test_borrower_rulebook_override_sets_the_clocks(app_ctx, world):
    """A borrower governed by US_REG_F gets the US_CFPB complaint clocks (calendar days)."""
    from portal.auth.models import BorrowerProfile

    db.session.get(BorrowerProfile, world.borrower_id).rulebook_code = "US_REG_F"
    complaint = file(world, ComplaintCategory.OTHER)
    assert complaint.rulebook_code == "US_CFPB"
    assert complaint.response_due_at == datetime(2026, 12, 13, 16, tzinfo=UTC)


def test_holidays_move_the_deadline(app_ctx, world):
    """An admin's holiday in the window pushes the response deadline one business day."""
    from datetime import date

    from portal.complaints.calendar import add_calendar_day
    from portal.complaints.models import CalendarDayKind

    add_calendar_day(
        "CN",
        date(2026, 12, 1),
        CalendarDayKind.HOLIDAY,
        "Test",
        actor_id=world.admin_id,
        now=NOW,
        ip_address=None,
    )
    complaint = file(world, ComplaintCategory.OTHER)
    assert complaint.acknowledge_due_at == datetime(2026, 11, 30, 16, tzinfo=UTC)
    assert complaint.response_due_at == datetime(2026, 12, 21, 16, tzinfo=UTC)


def test_empty_or_oversized_description_is_refused(app_ctx, world):
    """A clear error, nothing filed."""
    from portal.complaints.models import Complaint, ComplaintChannel
    from portal.complaints.services import file_complaint

    for text in ("   ", "x" * 5001):
        with pytest.raises(DescriptionInvalid):
            file_complaint(
                borrower=user(world.borrower_id),
                category=ComplaintCategory.OTHER,
                description=text,
                loan_id=None,
                payment_id=None,
                uploads=[],
                channel=ComplaintChannel.PORTAL,
                received_at=NOW,
                now=NOW,
                settings=SETTINGS,
            )
    assert db.session.scalar(select(Complaint.id)) is None


def test_another_borrowers_loan_cannot_be_named(app_ctx, world, make_user, make_loan):
    """The loan must be the borrower's own (404, never a hint)."""
    from portal.auth.models import Role
    from portal.domain import NotFound

    other_loan = make_loan(make_user(Role.BORROWER).id)
    stranger_loan = replace(world, loan_id=other_loan)
    with pytest.raises(NotFound):
        file(stranger_loan)


def test_attachment_content_must_match_its_type(app_ctx, world, uploads_in_tmp):
    """A PNG named .pdf is refused and no file is left behind."""
    with pytest.raises(DocumentContentMismatch):
        file(world, uploads=[Upload("x.pdf", "application/pdf", PNG)])
    assert not uploads_in_tmp.exists() or not any(uploads_in_tmp.iterdir())


def test_attachments_are_stored_outside_static_under_random_names(app_ctx, world, uploads_in_tmp):
    """The stored name is random; the shown name is cleaned of any path."""
    complaint = file(world, uploads=[Upload("../../etc/passwd.pdf", "application/pdf", PDF)])
    (attachment,) = complaint.attachments
    assert attachment.filename == "passwd.pdf"
    assert (uploads_in_tmp / attachment.stored_name).read_bytes() == PDF


def test_conduct_complaint_holds_collection_until_resolved(app_ctx, world):
    """A COMPLAINT hold opens on filing and closes on resolution (audited both ways)."""
    complaint = file(world)
    hold = db.session.get(ContactHold, complaint.hold_id)
    assert hold.reason is HoldReason.COMPLAINT
    assert hold.closed_at is None
    admin = user(world.admin_id)
    handling.acknowledge(admin, complaint.id, now=NOW, ip_address=None)
    resolve(
        admin,
        complaint.id,
        Resolution("We are sorry.", Remedy.APOLOGY, RootCause.STAFF_CONDUCT, systemic=True),
        now=LATER,
        ip_address=None,
    )
    assert hold.closed_at == LATER
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"contact.hold_opened", "contact.hold_closed", "complaint.resolved"} <= actions


@pytest.mark.parametrize("category", [ComplaintCategory.PRIVACY, ComplaintCategory.SERVICE_QUALITY])
def test_other_categories_do_not_hold_collection(app_ctx, world, category):
    """Only complaints about collecting pause collection contact."""
    assert file(world, category).hold_id is None


def test_withdrawal_releases_the_hold(app_ctx, world):
    """The borrower withdraws; the hold closes; a withdrawn complaint takes no more replies."""
    complaint = file(world)
    withdraw(user(world.borrower_id), complaint.reference, now=LATER, ip_address=None)
    assert complaint.status is ComplaintStatus.WITHDRAWN
    assert db.session.get(ContactHold, complaint.hold_id).closed_at == LATER
    with pytest.raises(NotOpen):
        borrower_reply(
            user(world.borrower_id),
            complaint.reference,
            "hello",
            [],
            now=LATER,
            settings=SETTINGS,
            ip_address=None,
        )


def test_acknowledgement_sends_the_notice_with_the_deadline(app_ctx, world):
    """The complaint_acknowledgement notice goes out on the portal and by email, once."""
    install_defaults(["complaint_acknowledgement"], "en")
    complaint = file(world, ComplaintCategory.OTHER)
    handling.acknowledge(user(world.agent_id), complaint.id, now=NOW, ip_address=None)
    messages = db.session.scalars(
        select(Message).where(Message.borrower_id == world.borrower_id)
    ).all()
    assert {m.channel for m in messages} == {Channel.PORTAL, Channel.EMAIL}
    assert all(complaint.reference in m.body_text for m in messages)
    assert any("December 18, 2026" in m.body_text for m in messages)
    assert complaint.handler_id == world.agent_id
    with pytest.raises(TransitionRefused):
        handling.acknowledge(user(world.agent_id), complaint.id, now=NOW, ip_address=None)


def test_internal_notes_are_not_public(app_ctx, world):
    """A note is kept with public=False; the reply with public=True."""
    complaint = file(world, ComplaintCategory.OTHER)
    agent = user(world.agent_id)
    handling.write(
        agent, complaint.id, "Check the call log.", internal=True, now=NOW, ip_address=None
    )
    handling.write(
        agent, complaint.id, "We are looking into it.", internal=False, now=NOW, ip_address=None
    )
    events = {e.body: e.public for e in complaint.events}
    assert events["Check the call log."] is False
    assert events["We are looking into it."] is True


def test_thread_events_are_immutable(app_ctx, world):
    """An event cannot be rewritten or deleted."""
    complaint = file(world, ComplaintCategory.OTHER)
    db.session.commit()
    event = db.session.scalar(select(ComplaintEvent))
    event.body = "rewritten"
    with pytest.raises(ImmutableEvent):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.scalar(select(ComplaintEvent)))
    with pytest.raises(ImmutableEvent):
        db.session.flush()
    db.session.rollback()
    assert complaint.reference


def test_request_information_and_borrower_reply(app_ctx, world):
    """Awaiting the borrower, their reply moves it back to investigating."""
    complaint = file(world, ComplaintCategory.OTHER)
    agent = user(world.agent_id)
    handling.acknowledge(agent, complaint.id, now=NOW, ip_address=None)
    handling.request_information(agent, complaint.id, "Which date?", now=NOW, ip_address=None)
    assert complaint.status is ComplaintStatus.AWAITING_BORROWER
    borrower_reply(
        user(world.borrower_id),
        complaint.reference,
        "On 3 November.",
        [Upload("shot.png", "image/png", PNG)],
        now=LATER,
        settings=SETTINGS,
        ip_address=None,
    )
    assert complaint.status is ComplaintStatus.INVESTIGATING
    assert len(complaint.attachments) == 1


def test_recusal_of_the_collector_of_the_case(app_ctx, world, make_user):
    """The collector assigned to the borrower's case cannot handle a conduct complaint, nor
    can the person it is about; another agent can."""
    from portal.auth.models import Role

    other = make_user(Role.AGENT)
    complaint = file(world)
    admin = user(world.admin_id)
    assert world.collector_id in handling.recused_staff(complaint)
    with pytest.raises(handling.ComplaintRefused):  # a collector is not a handler anyway
        handling.assign(admin, complaint.id, world.collector_id, now=NOW, ip_address=None)
    # The person complained about, even an agent, is recused.
    handling.set_subject_staff(admin, complaint.id, world.agent_id, now=NOW, ip_address=None)
    with pytest.raises(handling.HandlerRecused):
        handling.assign(admin, complaint.id, world.agent_id, now=NOW, ip_address=None)
    with pytest.raises(handling.ComplaintAboutYou):  # nor may they read it
        handling.complaint_for_staff(user(world.agent_id), complaint.id)
    handling.assign(admin, complaint.id, other.id, now=NOW, ip_address=None)
    assert complaint.handler_id == other.id
    with pytest.raises(handling.NotAHandler):
        handling.complaint_for_staff(user(world.collector_id), complaint.id)


def test_cn_extensions_need_a_reason_then_a_supervisor(app_ctx, world):
    """CN: 15 -> 30 business days with a reason; -> 60 only by an admin other than the handler."""
    complaint = file(world, ComplaintCategory.OTHER)
    agent, supervisor = user(world.agent_id), user(world.supervisor_id)
    handling.acknowledge(agent, complaint.id, now=NOW, ip_address=None)
    ext = {"now": NOW, "settings": SETTINGS, "ip_address": None}
    with pytest.raises(handling.ExtensionRefused):
        handling.extend_deadline(agent, complaint.id, "  ", **ext)
    handling.extend_deadline(agent, complaint.id, "Needs the call recordings.", **ext)
    assert complaint.response_due_at == datetime(2027, 1, 8, 16, tzinfo=UTC)
    with pytest.raises(handling.ExtensionRefused):
        handling.extend_deadline(agent, complaint.id, "More time.", **ext)
    handling.extend_deadline(supervisor, complaint.id, "Third party records.", **ext)
    assert complaint.extension_level == 2
    with pytest.raises(handling.ExtensionRefused):
        handling.extend_deadline(supervisor, complaint.id, "Again.", **ext)


def test_escalation_to_a_supervisor(app_ctx, world):
    """Escalated once, to an admin who does not handle it."""
    complaint = file(world, ComplaintCategory.OTHER)
    agent = user(world.agent_id)
    handling.acknowledge(agent, complaint.id, now=NOW, ip_address=None)
    with pytest.raises(handling.ComplaintRefused):
        handling.escalate(agent, complaint.id, world.agent_id, now=NOW, ip_address=None)
    handling.escalate(agent, complaint.id, world.supervisor_id, now=NOW, ip_address=None)
    assert complaint.escalated
    assert complaint.supervisor_id == world.supervisor_id
    with pytest.raises(handling.EscalationRefused):
        handling.escalate(agent, complaint.id, world.admin_id, now=NOW, ip_address=None)


def test_fee_waiver_remedy_is_booked_once(app_ctx, world):
    """The waiver goes through the one waiver (ledger adjustments, audited); resolving again
    is refused and books nothing more."""
    complaint = file(world, ComplaintCategory.AMOUNT_DISPUTE)
    admin = user(world.admin_id)
    handling.acknowledge(admin, complaint.id, now=NOW, ip_address=None)
    resolution = Resolution(
        "We waived the interest overdue.",
        Remedy.WAIVER,
        RootCause.PROCESS_ERROR,
        components=(Component.INTEREST,),
    )
    resolve(admin, complaint.id, resolution, now=LATER, ip_address=None)
    adjustments = db.session.scalars(select(LedgerAdjustment)).all()
    assert adjustments
    assert sum(a.amount_minor for a in adjustments) == complaint.remedy_minor > 0
    assert complaint.remedy_currency == "CNY"
    with pytest.raises(TransitionRefused):
        resolve(admin, complaint.id, resolution, now=LATER, ip_address=None)
    assert len(db.session.scalars(select(LedgerAdjustment)).all()) == len(adjustments)


def test_only_admins_grant_waivers(app_ctx, world):
    """An agent can resolve, but not with a waiver."""
    complaint = file(world, ComplaintCategory.AMOUNT_DISPUTE)
    agent = user(world.agent_id)
    handling.acknowledge(agent, complaint.id, now=NOW, ip_address=None)
    with pytest.raises(RemedyRefused):
        resolve(
            agent,
            complaint.id,
            Resolution("x", Remedy.WAIVER, RootCause.NO_FAULT, components=(Component.FEE,)),
            now=LATER,
            ip_address=None,
        )


def test_reopen_within_the_window_only(app_ctx, world):
    """Reopened within the window (the hold opens again); refused after it."""
    complaint = file(world)
    admin = user(world.admin_id)
    handling.acknowledge(admin, complaint.id, now=NOW, ip_address=None)
    resolve(
        admin,
        complaint.id,
        Resolution("Done.", Remedy.NONE, RootCause.NO_FAULT),
        now=NOW,
        ip_address=None,
    )
    handling.close(admin, complaint.id, now=NOW, ip_address=None)
    first_hold = complaint.hold_id
    handling.reopen(
        admin,
        complaint,
        "Not fixed.",
        now=NOW + timedelta(days=29),
        settings=SETTINGS,
        ip_address=None,
    )
    assert complaint.status is ComplaintStatus.INVESTIGATING
    assert complaint.hold_id != first_hold
    resolve(
        admin,
        complaint.id,
        Resolution("Done.", Remedy.NONE, RootCause.NO_FAULT),
        now=NOW + timedelta(days=30),
        ip_address=None,
    )
    with pytest.raises(ReopenWindowPassed):
        handling.reopen(
            admin, complaint, "", now=NOW + timedelta(days=61), settings=SETTINGS, ip_address=None
        )


def test_a_borrower_never_reaches_another_borrowers_complaint(app_ctx, world, make_user):
    """Looked up by reference, someone else's complaint is not found."""
    from portal.auth.models import Role

    stranger = make_user(Role.BORROWER)
    complaint = file(world, ComplaintCategory.OTHER)
    with pytest.raises(ComplaintNotFound):
        complaint_for_borrower(stranger.id, complaint.reference)
    with pytest.raises(ComplaintNotFound):
        withdraw(user(stranger.id), complaint.reference, now=NOW, ip_address=None)
