"""Actions on a case: calls through the contact rules, promises, notes, messages, callbacks and
assessments. Each is audited with the case id; a refused one keeps nothing and shows the input."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.auth.models import BorrowerProfile, Channel, ContactPreference, Role
from portal.collections.metrics import last_contact_at
from portal.collections.models import (
    ArrearsReason,
    Assessment,
    CaseNote,
    CaseStatus,
    CollectionCase,
    PromiseStatus,
    PromiseToPay,
    Willingness,
)
from portal.extensions import db
from portal.messaging.models import CallOutcome, ContactDecisionRecord, Message, MessageStatus
from tests.collections.conftest import NOW, TODAY, freeze, make_case
from tests.conftest import csrf_token, login, page_text

NIGHT = datetime(2026, 11, 28, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai


@pytest.fixture
def setup(app, make_user, make_loan, monkeypatch):
    """A borrower in Shanghai with a phone, an overdue loan, a case assigned to a signed-in
    collector, default message templates, and the routes' clock at 10:00 Shanghai time."""
    from portal.messaging.default_templates import install_default_templates

    borrower = make_user(Role.BORROWER, locale="en", name="Wang Fang")
    collector = make_user(Role.COLLECTOR, locale="en")
    with app.app_context():
        db.session.get(BorrowerProfile, borrower.id).phone = "+8613800138000"
        install_default_templates(now=NOW)
        db.session.commit()
    loan_id = make_loan(borrower.id)  # 3,000.00 over 6 months from June: overdue since July
    case_id = make_case(app, borrower_id=borrower.id, loan_id=loan_id, assigned_to=collector.id)
    freeze(monkeypatch, NOW)
    return {"borrower": borrower, "collector": collector, "loan_id": loan_id, "case_id": case_id}


@pytest.fixture
def collector(client, setup):
    login(client, setup["collector"])
    return client


def _post(client, setup, action: str, form: str, **fields):
    """Submit one of the case page's forms with its prefixed field names and a CSRF token."""
    data = {f"{form}-{name}": value for name, value in fields.items()}
    data["csrf_token"] = csrf_token(client, f"/staff/collections/cases/{setup['case_id']}")
    return client.post(f"/staff/collections/cases/{setup['case_id']}/{action}", data=data)


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _last_contact(app, setup):
    """When the case's borrower was last contacted, as every page defines it."""
    with app.app_context():
        return db.session.scalar(select(last_contact_at(setup["borrower"].id)))


def _case(app, case_id: int) -> CollectionCase:
    with app.app_context():
        case = db.session.get(CollectionCase, case_id)
        db.session.expunge(case)
        return case


# Calls -----------------------------------------------------------------------------------------


def test_logging_a_call_records_it_through_the_guard(app, collector, setup):
    """A call is logged with its outcome, the guard's decision, the last contact and an audit."""
    response = _post(collector, setup, "calls", "call", outcome="connected", note="Will pay Friday")

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/cases/{setup['case_id']}#timeline")
    with app.app_context():
        call = db.session.scalars(select(Message).where(Message.channel == Channel.PHONE)).one()
        assert (call.call_outcome, call.body_text) == (CallOutcome.CONNECTED, "Will pay Friday")
        assert call.loan_id == setup["loan_id"]
    assert _count(app, ContactDecisionRecord, ContactDecisionRecord.outcome == "send") == 1
    assert _last_contact(app, setup) == NOW
    [event] = _events(app, "case.call_logged")
    assert (event.object_id, event.details["outcome"]) == (str(setup["case_id"]), "connected")
    page = page_text(collector.get(f"/staff/collections/cases/{setup['case_id']}"))
    assert "Call logged: Reached the borrower." in page
    assert "Will pay Friday" in page


def test_a_promise_to_pay_call_records_the_promise_in_the_same_action(app, collector, setup):
    """Outcome "promise to pay" with amount and date: the call and the promise, one audit."""
    response = _post(
        collector,
        setup,
        "calls",
        "call",
        outcome="promise_to_pay",
        amount="1,200.50",
        promised_on=(TODAY + timedelta(days=3)).isoformat(),
    )

    assert response.status_code == 303
    with app.app_context():
        promise = db.session.scalars(select(PromiseToPay)).one()
        assert (promise.amount_minor, promise.promised_on) == (120_050, date(2026, 12, 1))
        assert (promise.status, promise.made_at) == (PromiseStatus.PENDING, NOW)
    [event] = _events(app, "case.call_logged")
    assert event.details["promise_id"] == promise.id
    assert event.details["amount_minor"] == 120_050


def test_a_promise_to_pay_call_without_amount_and_date_records_nothing(app, collector, setup):
    """The form asks for both; no call, no promise, no guard decision is kept."""
    response = _post(collector, setup, "calls", "call", outcome="promise_to_pay", note="kept")

    assert response.status_code == 422
    text = page_text(response)
    assert "A promise to pay needs the promised amount." in text
    assert "A promise to pay needs the promised date." in text
    assert "kept</textarea>" in response.get_data(as_text=True)  # the input is kept
    assert _count(app, Message) == 0
    assert _count(app, ContactDecisionRecord) == 0


def test_a_call_at_night_is_refused_by_the_guard_and_only_the_refusal_is_kept(
    app, collector, setup, monkeypatch
):
    """23:30 for the borrower: refused, naming the rule and the earliest time (08:00 their time);
    no call, promise, audit event or contact time is kept, only the guard's refusal."""
    freeze(monkeypatch, NIGHT)

    response = _post(
        collector,
        setup,
        "calls",
        "call",
        outcome="promise_to_pay",
        amount="100",
        promised_on=(TODAY + timedelta(days=2)).isoformat(),
    )

    assert response.status_code == 422
    text = page_text(response)
    assert "outside the contact hours" in text
    assert "11/29/26, 8:00" in text  # the next morning, borrower's clock
    assert "(China Time)" in text  # the zone in words, not its code
    assert "Asia/Shanghai" not in text
    assert "No call was recorded; the refusal is on the case" in text
    assert _count(app, Message) == 0
    assert _count(app, PromiseToPay) == 0
    assert _count(app, ContactDecisionRecord, ContactDecisionRecord.outcome == "defer") == 1
    assert _count(app, ContactDecisionRecord) == 1
    assert _events(app, "case.call_logged") == []
    assert _last_contact(app, setup) is None


def test_a_call_answers_a_due_callback(app, collector, setup):
    """Logging a call clears a callback that was due, so the case leaves the top of the queue."""
    with app.app_context():
        db.session.get(CollectionCase, setup["case_id"]).callback_at = NOW - timedelta(minutes=5)
        db.session.commit()

    _post(collector, setup, "calls", "call", outcome="no_answer")

    assert _case(app, setup["case_id"]).callback_at is None


def test_actions_need_a_csrf_token(app, collector, setup):
    """Without the token the action is refused (400) and nothing is recorded."""
    url = f"/staff/collections/cases/{setup['case_id']}"
    assert collector.post(f"{url}/calls", data={"call-outcome": "connected"}).status_code == 400
    response = collector.post(
        f"{url}/promises", data={"promise-amount": "10", "promise-promised_on": "2026-12-01"}
    )
    assert response.status_code == 400
    assert _count(app, Message) == 0
    assert _count(app, PromiseToPay) == 0


def test_another_collector_cannot_act_on_the_case(app, client, make_user, setup):
    """Actions on a case of someone else: 403 and nothing recorded."""
    login(client, make_user(Role.COLLECTOR, locale="en"))
    token = csrf_token(client, "/staff/collections/queue")

    response = client.post(
        f"/staff/collections/cases/{setup['case_id']}/notes",
        data={"note-body": "hello", "csrf_token": token},
    )

    assert response.status_code == 403
    assert _count(app, CaseNote) == 0


# Promises --------------------------------------------------------------------------------------


def test_recording_a_promise(app, collector, setup):
    """Amount in the loan's currency and a date: a pending promise, audited with the case id."""
    response = _post(
        collector, setup, "promises", "promise", amount="500", promised_on=TODAY.isoformat()
    )

    assert response.status_code == 303
    with app.app_context():
        promise = db.session.scalars(select(PromiseToPay)).one()
        assert (promise.amount_minor, promise.currency, promise.promised_on) == (
            50_000,
            "CNY",
            TODAY,
        )
        assert promise.created_by == setup["collector"].id
    [event] = _events(app, "case.promise_recorded")
    assert event.object_id == str(setup["case_id"])
    assert event.details["amount_minor"] == 50_000


@pytest.mark.parametrize(
    ("amount", "promised_on", "message"),
    [
        ("500", "2026-11-27", "The promised date is in the past for the borrower."),
        ("999,999.00", "2026-12-01", "more than the outstanding balance (CN¥"),
        ("12.345", "2026-12-01", "Enter an amount such as 1,250.00."),
        ("0", "2026-12-01", "The promised amount must be more than zero."),
        ("", "2026-12-01", "Please enter an amount."),
        ("500", "", "Please choose the promised date."),
        ("500", "9999-12-31", "Choose a date between 1900 and 2200."),
        ("1e999999", "2026-12-01", "Enter an amount such as 1,250.00."),
        ("NaN", "2026-12-01", "Enter an amount such as 1,250.00."),
        ("１２", "2026-12-01", "Enter an amount such as 1,250.00."),
    ],
)
def test_a_bad_promise_is_refused_with_a_clear_error(
    app, collector, setup, amount, promised_on, message
):
    """Past date, above the balance, too many decimals, zero or missing: refused, input kept."""
    response = _post(
        collector, setup, "promises", "promise", amount=amount, promised_on=promised_on
    )

    assert response.status_code == 422
    assert message in page_text(response)
    if amount:
        assert f'value="{amount}"' in response.get_data(as_text=True)
    assert _count(app, PromiseToPay) == 0
    assert _events(app, "case.promise_recorded") == []


def test_a_second_pending_promise_is_refused(app, collector, setup):
    """One pending promise per case: the second is refused until the first is settled."""
    first = _post(
        collector, setup, "promises", "promise", amount="100", promised_on=TODAY.isoformat()
    )
    second = _post(
        collector, setup, "promises", "promise", amount="200", promised_on=TODAY.isoformat()
    )

    assert (first.status_code, second.status_code) == (303, 422)
    assert "already has a pending promise to pay" in page_text(second)
    assert _count(app, PromiseToPay) == 1


def test_the_borrowers_date_decides_what_is_past(app, collector, make_user, make_loan, setup):
    """At 01:00 UTC on the 28th it is still the 27th in New York: a promise for the 27th is
    accepted there."""
    far = make_user(Role.BORROWER, locale="en", timezone="America/New_York")
    case_id = make_case(
        app, borrower_id=far.id, loan_id=make_loan(far.id), assigned_to=setup["collector"].id
    )

    response = _post(
        collector,
        {**setup, "case_id": case_id},
        "promises",
        "promise",
        amount="100",
        promised_on="2026-11-27",
    )

    assert response.status_code == 303


# Notes -----------------------------------------------------------------------------------------


def test_adding_a_note_escapes_it_on_the_timeline(app, collector, setup):
    """A note is kept as written and shown escaped; audited with the case id."""
    response = _post(collector, setup, "notes", "note", body="<script>alert(1)</script>\nLine 2")

    assert response.status_code == 303
    with app.app_context():
        assert (
            db.session.scalars(select(CaseNote.body)).one() == "<script>alert(1)</script>\nLine 2"
        )
    html = collector.get(f"/staff/collections/cases/{setup['case_id']}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
    assert [e.object_id for e in _events(app, "case.note_added")] == [str(setup["case_id"])]


@pytest.mark.parametrize(
    ("body", "message"),
    [("   ", "Please write the note."), ("x" * 2001, "At most 2000 characters.")],
)
def test_an_empty_or_too_long_note_is_refused(app, collector, setup, body, message):
    """Between 1 and 2000 characters."""
    response = _post(collector, setup, "notes", "note", body=body)

    assert response.status_code == 422
    assert message in page_text(response)
    assert _count(app, CaseNote) == 0


def test_a_closed_case_takes_notes_but_no_promises(app, collector, setup):
    """A cured case: notes still go on the record; a promise is refused as the case is closed."""
    with app.app_context():
        db.session.get(CollectionCase, setup["case_id"]).status = CaseStatus.CURED
        db.session.commit()

    note = _post(collector, setup, "notes", "note", body="Paid in full, thanked them")
    promise = _post(
        collector, setup, "promises", "promise", amount="100", promised_on=TODAY.isoformat()
    )

    assert note.status_code == 303
    assert promise.status_code == 422
    assert "no longer open" in page_text(promise)
    assert _count(app, PromiseToPay) == 0


# Messages --------------------------------------------------------------------------------------


def test_sending_a_message_queues_it_and_says_so(app, collector, setup):
    """A portal notice goes to the outbox; the collector reads "queued"; queued is no contact."""
    response = _post(
        collector, setup, "messages", "message", purpose="overdue_stage_2", channel="portal"
    )

    assert response.status_code == 303
    with app.app_context():
        message = db.session.scalars(select(Message)).one()
        assert (message.purpose, message.channel) == ("overdue_stage_2", Channel.PORTAL)
        assert (message.status, message.created_by) == (
            MessageStatus.QUEUED,
            setup["collector"].id,
        )
    assert _last_contact(app, setup) is None
    [event] = _events(app, "case.message_sent")
    assert event.details["result"] == "queued"
    page = page_text(collector.get(f"/staff/collections/cases/{setup['case_id']}"))
    assert "The message is queued" in page


def test_a_message_at_night_is_deferred_and_the_collector_is_told_until_when(
    app, collector, setup, monkeypatch
):
    """A text at 23:30 borrower time is deferred to 08:00 their time, and the page says so."""
    freeze(monkeypatch, NIGHT)

    _post(collector, setup, "messages", "message", purpose="overdue_stage_1", channel="sms")

    page = page_text(collector.get(f"/staff/collections/cases/{setup['case_id']}"))
    assert "deferred until 11/29/26, 8:00" in page
    assert "outside the contact hours" in page


def test_a_blocked_message_names_the_rule(app, collector, setup):
    """The borrower opted out of email: blocked, and the collector reads why."""
    with app.app_context():
        preference = db.session.scalars(
            select(ContactPreference).where(
                ContactPreference.borrower_id == setup["borrower"].id,
                ContactPreference.channel == Channel.EMAIL,
            )
        ).one()
        preference.allowed = False
        db.session.commit()

    _post(collector, setup, "messages", "message", purpose="overdue_stage_3", channel="email")

    page = page_text(collector.get(f"/staff/collections/cases/{setup['case_id']}"))
    assert "blocked by the contact rules (the borrower opted out of this channel)" in page
    assert _last_contact(app, setup) is None
    assert _events(app, "case.message_sent")[0].details["rule"] == "opt_out:email"


def test_an_unknown_message_choice_is_refused(app, collector, setup):
    """Only the three overdue notices on portal, email or SMS can be sent from a case."""
    response = _post(
        collector, setup, "messages", "message", purpose="lawyer_letter", channel="portal"
    )

    assert response.status_code == 422
    assert _count(app, Message) == 0


# Callbacks -------------------------------------------------------------------------------------


def test_a_callback_is_entered_in_the_borrowers_time_and_stored_in_utc(
    app, collector, make_user, make_loan, setup
):
    """09:30 on the 30th in New York is 14:30 UTC; the audit event has the case id."""
    far = make_user(Role.BORROWER, locale="en", timezone="America/New_York")
    case_id = make_case(
        app, borrower_id=far.id, loan_id=make_loan(far.id), assigned_to=setup["collector"].id
    )

    response = _post(
        collector,
        {**setup, "case_id": case_id},
        "callback",
        "callback",
        callback_at="2026-11-30T09:30",
    )

    assert response.status_code == 303
    assert _case(app, case_id).callback_at == datetime(2026, 11, 30, 14, 30, tzinfo=UTC)
    assert [e.object_id for e in _events(app, "case.callback_set")] == [str(case_id)]


def test_a_callback_at_a_time_the_clocks_skip_is_refused(
    app, collector, make_user, make_loan, setup
):
    """02:30 on 14 March 2027 does not exist in New York (clocks jump to 03:00)."""
    far = make_user(Role.BORROWER, locale="en", timezone="America/New_York")
    case_id = make_case(
        app, borrower_id=far.id, loan_id=make_loan(far.id), assigned_to=setup["collector"].id
    )

    response = _post(
        collector,
        {**setup, "case_id": case_id},
        "callback",
        "callback",
        callback_at="2027-03-14T02:30",
    )

    assert response.status_code == 422
    assert "That time does not exist in the borrower" in page_text(response)
    assert _case(app, case_id).callback_at is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-11-28T09:59", "The callback time has already passed for the borrower."),
        ("tomorrow", "Not a valid datetime value."),
        ("", "Please choose a date and time."),
    ],
)
def test_a_past_or_malformed_callback_is_refused(app, collector, setup, value, message):
    """It is 10:00 in Shanghai: 09:59 is past; text that is no time is refused too."""
    response = _post(collector, setup, "callback", "callback", callback_at=value)

    assert response.status_code == 422
    assert message in page_text(response)
    assert _case(app, setup["case_id"]).callback_at is None


# Assessments -----------------------------------------------------------------------------------


def test_recording_an_assessment(app, collector, setup):
    """Texts, the reason and willingness, and optional amounts parsed in the loan's currency."""
    response = _post(
        collector,
        setup,
        "assessments",
        "assessment",
        income_situation="Lost job in October, now part-time",
        monthly_income="4,000",
        arrears_reason="job_loss",
        willingness="partly",
        can_pay="",
        next_step="Offer a 6-month plan",
    )

    assert response.status_code == 303
    with app.app_context():
        assessment = db.session.scalars(select(Assessment)).one()
        assert assessment.monthly_income_minor == 400_000
        assert assessment.can_pay_minor_per_month is None
        assert (assessment.arrears_reason, assessment.willingness) == (
            ArrearsReason.JOB_LOSS,
            Willingness.PARTLY,
        )
    assert [e.object_id for e in _events(app, "case.assessment_recorded")] == [
        str(setup["case_id"])
    ]


def test_an_incomplete_assessment_is_refused_with_the_input_kept(app, collector, setup):
    """Missing next step and an amount that is not one: errors by the fields, nothing saved."""
    response = _post(
        collector,
        setup,
        "assessments",
        "assessment",
        income_situation="Self-employed",
        monthly_income="lots",
        arrears_reason="illness",
        willingness="willing",
        next_step="",
    )

    assert response.status_code == 422
    text = page_text(response)
    assert "Please fill this in." in text
    assert 'value="Self-employed"' in response.get_data(as_text=True)
    assert _count(app, Assessment) == 0
