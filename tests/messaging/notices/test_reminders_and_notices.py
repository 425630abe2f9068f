from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.auth.models import Channel, ContactPreference, Role
from portal.extensions import db
from portal.loans.models import Loan
from portal.loans.services import loan_position
from portal.messaging.calls import CallNotAllowed, log_call, may_call
from portal.messaging.dispatch import dispatch_due
from portal.messaging.guard import Outcome
from portal.messaging.models import CallOutcome, Message, MessageStatus
from portal.messaging.notices.services import send_overdue_notice, unread_count
from portal.messaging.reminders import generate_reminders
from portal.timeutil import local_today, utcnow
from tests.conftest import login, page_text
from tests.messaging.conftest import NOON_SHANGHAI

TODAY = date(2026, 11, 28)  # NOON_SHANGHAI's local date


@pytest.fixture
def borrower(make_user, templates_installed):
    return make_user(locale="en")


def test_reminders_three_days_one_day_and_on_the_day(app_ctx, borrower, make_loan):
    """Installments due in 3 days, 1 day and today get reminders; others do not."""
    # Monthly schedule: installment n is due on disbursed_on + n months.
    for due in (
        TODAY + timedelta(days=3),
        TODAY + timedelta(days=1),
        TODAY,
        TODAY + timedelta(days=2),
    ):
        make_loan(borrower.id, disbursed_on=due.replace(month=due.month - 1), terms=1)
    report = generate_reminders(NOON_SHANGHAI)
    db.session.commit()
    assert report.candidates == 3
    purposes = sorted(
        m.purpose
        for m in db.session.scalars(select(Message).where(Message.channel == Channel.PORTAL))
    )
    assert purposes == ["due_today", "pre_due_reminder", "pre_due_reminder"]


def test_reminders_are_generated_once_and_only_on_preferred_channels(app_ctx, borrower, make_loan):
    """A second run queues nothing new; an opted-out channel gets no reminder at all."""
    make_loan(borrower.id, disbursed_on=date(2026, 10, 28), terms=1)  # due today
    db.session.scalar(
        select(ContactPreference).where(
            ContactPreference.borrower_id == borrower.id, ContactPreference.channel == Channel.SMS
        )
    ).allowed = False
    db.session.commit()
    first = generate_reminders(NOON_SHANGHAI)
    db.session.commit()
    second = generate_reminders(NOON_SHANGHAI + timedelta(hours=1))
    db.session.commit()
    assert (first.queued, second.queued, second.already_queued) == (2, 0, 2)
    channels = {m.channel for m in db.session.scalars(select(Message))}
    assert channels == {Channel.PORTAL, Channel.EMAIL}


def test_reminder_day_follows_the_borrower_time_zone(
    app_ctx, make_user, make_loan, templates_installed
):
    """At 16:30 UTC it is already the due date in Shanghai, not yet in New York."""
    shanghai = make_user(timezone="Asia/Shanghai")
    new_york = make_user(timezone="America/New_York")
    for account in (shanghai, new_york):
        make_loan(account.id, disbursed_on=date(2026, 10, 29), terms=1)  # due Nov 29
    now = NOON_SHANGHAI.replace(hour=16, minute=30)
    generate_reminders(now)
    db.session.commit()
    by_borrower = {
        (m.borrower_id, m.purpose)
        for m in db.session.scalars(select(Message).where(Message.channel == Channel.PORTAL))
    }
    assert by_borrower == {(shanghai.id, "due_today"), (new_york.id, "pre_due_reminder")}


def test_overdue_notice_in_the_notice_centre(app, client, borrower, make_loan):
    """An overdue notice shows up with the unread count; opening it marks it read."""
    now = utcnow()  # the page computes days past due from the real clock
    today = local_today("Asia/Shanghai", now)
    with app.app_context():
        loan_id = make_loan(borrower.id, disbursed_on=today - timedelta(days=45), terms=3)
        notice = send_overdue_notice(loan_id, channel=Channel.PORTAL, now=now)
        db.session.commit()
        dispatch_due(lambda: now, channels={Channel.PORTAL})
        notice_id = notice.id
        days = loan_position(db.session.get(Loan, loan_id), today).days_past_due
        assert unread_count(borrower.id) == 1
    login(client, borrower)
    assert 'data-testid="unread-count"' in client.get("/notices/").get_data(as_text=True)
    text = page_text(client.get(f"/notices/{notice_id}"))
    assert f"{days} days past due" in text
    assert "Original due dates" in text
    assert "Pay now" in text
    with app.app_context():
        assert unread_count(borrower.id) == 0


def test_notices_of_others_are_not_found(app, client, borrower, make_user, make_loan):
    """A borrower guessing another's notice id gets 404."""
    with app.app_context():
        loan_id = make_loan(borrower.id, disbursed_on=TODAY - timedelta(days=45), terms=3)
        notice = send_overdue_notice(loan_id, channel=Channel.PORTAL, now=NOON_SHANGHAI)
        db.session.commit()
        dispatch_due(lambda: NOON_SHANGHAI, channels={Channel.PORTAL})
        notice_id = notice.id
    login(client, make_user())
    assert client.get(f"/notices/{notice_id}").status_code == 404


def test_no_overdue_notice_for_a_current_loan(app_ctx, borrower, make_loan):
    """A loan that is not overdue gets no overdue notice."""
    loan_id = make_loan(borrower.id, disbursed_on=TODAY - timedelta(days=10), terms=3)
    assert send_overdue_notice(loan_id, channel=Channel.PORTAL, now=NOON_SHANGHAI) is None


def test_pay_and_plan_links_are_real_routes_for_the_owner_only(
    client, borrower, make_user, make_loan
):
    """The notice's buttons lead to real pages for the owner, 404 for anyone else."""
    loan_id = make_loan(borrower.id)
    login(client, borrower)
    assert client.get(f"/loans/{loan_id}/pay").status_code == 200
    assert client.get(f"/loans/{loan_id}/plans").status_code == 200
    other = client.application.test_client()
    login(other, make_user())
    assert other.get(f"/loans/{loan_id}/pay").status_code == 404


def test_calls_pass_the_guard_and_count_toward_limits(app_ctx, borrower, make_user):
    """A collector may log calls until the daily dial limit; then the guard refuses."""
    collector = make_user(Role.COLLECTOR)
    from portal.auth.models import BorrowerProfile

    db.session.get(BorrowerProfile, borrower.id).phone = "+8613800000002"
    db.session.commit()
    for minute in range(6):
        log_call(
            borrower.id,
            outcome=CallOutcome.NO_ANSWER,
            now=NOON_SHANGHAI + timedelta(minutes=minute),
            actor_id=collector.id,
        )
        db.session.commit()
    decision = may_call(
        borrower.id, now=NOON_SHANGHAI + timedelta(minutes=10), actor_id=collector.id
    )
    assert (decision.outcome, decision.rule) == (Outcome.DEFER, "dial_attempts_per_day")
    with pytest.raises(CallNotAllowed):
        log_call(
            borrower.id,
            outcome=CallOutcome.CONNECTED,
            now=NOON_SHANGHAI + timedelta(minutes=11),
            actor_id=collector.id,
        )
    calls = db.session.scalars(select(Message).where(Message.channel == Channel.PHONE)).all()
    assert len(calls) == 6
    assert all(c.status is MessageStatus.SENT for c in calls)


def test_calls_at_night_are_refused(app_ctx, borrower, make_user):
    """No collection call at 23:00 in the borrower's zone."""
    from portal.auth.models import BorrowerProfile

    db.session.get(BorrowerProfile, borrower.id).phone = "+8613800000003"
    db.session.commit()
    with pytest.raises(CallNotAllowed) as refused:
        log_call(
            borrower.id,
            outcome=CallOutcome.CONNECTED,
            now=NOON_SHANGHAI + timedelta(hours=13),
            actor_id=make_user(Role.COLLECTOR).id,
        )
    assert refused.value.decision.rule == "quiet_hours"
