"""Contact rules page: the lender's rulebook and each rulebook's thresholds, for admins only."""

from __future__ import annotations

import re
from datetime import time

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.auth.models import Role
from portal.extensions import db
from portal.messaging.models import PortalSetting
from portal.messaging.rulebooks import InvalidRulebook, current_rulebook, lender_rulebook_code
from portal.messaging.staff.rulebooks import routes as rulebook_routes
from tests.conftest import csrf_token, login, page_text

URL = "/staff/messaging/rulebooks"
CN_DEFAULTS = {
    "window_start": "08:00",
    "window_end": "22:00",
    "sms_cap": "2",
    "email_cap": "2",
    "max_connected_calls_per_day": "3",
    "max_dial_attempts_per_day": "6",
    "max_call_attempts_per_7_days": "",
    "quiet_days_after_conversation": "",
    "third_party_contact": "emergency_contacts_when_unreachable",
    "unreachable_after_attempts": "3",
    "opt_out_notice_in_electronic_messages": "y",
}


@pytest.fixture
def admin(client, make_user):
    login(client, make_user(Role.ADMIN, locale="en", name="Ada Admin"))
    return client


def _save(client, code: str = "CN", **changes):
    fields = {**CN_DEFAULTS, **changes}
    data = {f"{code}-{name}": value for name, value in fields.items() if value is not None}
    return client.post(f"{URL}/{code}", data={"csrf_token": csrf_token(client, URL), **data})


def _value(html: str, name: str) -> str | None:
    """The value attribute of the input called ``name`` in a page."""
    tag = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', html)
    value = re.search(r'value="([^"]*)"', tag.group(0)) if tag else None
    return value.group(1) if value else None


def _events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _current(app, code: str = "CN"):
    with app.app_context():
        return current_rulebook(code)


def test_admin_sees_each_rulebook_with_its_thresholds(admin):
    """Both rulebooks are shown with their current values and the lender's choice."""
    response = admin.get(URL)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert _value(html, "CN-window_end") == "22:00"
    assert _value(html, "CN-max_dial_attempts_per_day") == "6"
    assert _value(html, "US_REG_F-window_end") == "21:00"
    assert _value(html, "US_REG_F-max_call_attempts_per_7_days") == "7"
    assert _value(html, "US_REG_F-max_dial_attempts_per_day") == ""  # no limit
    text = page_text(response)
    assert "In force for the lender: China (CN)" in text
    assert "Never changed: the built-in defaults apply." in text


@pytest.mark.parametrize("role", [Role.AGENT, Role.COLLECTOR])
def test_contact_rules_are_for_admins_only(client, make_user, role):
    """Agents and collectors can neither see nor change the rules."""
    login(client, make_user(role, locale="en"))
    assert client.get(URL).status_code == 403
    token = csrf_token(client, "/staff/messaging/terms")
    assert client.post(f"{URL}/CN", data={"csrf_token": token}).status_code == 403
    assert client.post(f"{URL}/lender", data={"csrf_token": token}).status_code == 403


def test_saved_thresholds_are_what_the_guard_reads(app, admin):
    """A save is a new version, and current_rulebook returns exactly what was entered."""
    response = _save(
        admin,
        window_start="09:30",
        window_end="20:00",
        sms_cap="1",
        max_dial_attempts_per_day="",
        quiet_days_after_conversation="2",
        third_party_contact="never",
        unreachable_after_attempts="5",
        opt_out_notice_in_electronic_messages=None,
    )
    assert response.status_code == 303
    rules = _current(app)
    assert rules.version == 1
    assert (rules.window_start, rules.window_end) == (time(9, 30), time(20, 0))
    assert rules.daily_caps == {"sms": 1, "email": 2}
    assert rules.max_connected_calls_per_day == 3
    assert rules.max_dial_attempts_per_day is None  # empty: no limit
    assert rules.quiet_days_after_conversation == 2
    assert rules.third_party_contact == "never"
    assert rules.unreachable_after_attempts == 5
    assert rules.opt_out_notice_in_electronic_messages is False
    assert _current(app, "US_REG_F").version == 0  # the other rulebook is untouched
    (event,) = _events(app, "rulebook.saved")
    assert event.details["version"] == 1
    assert event.details["changed"]["window_start"] == {"from": "08:00", "to": "09:30"}
    assert "max_connected_calls_per_day" not in event.details["changed"]


def test_history_lists_saved_versions(app, admin):
    """Each save adds a row to the rulebook's history, with who saved it."""
    _save(admin, sms_cap="1")
    _save(admin, sms_cap="3")
    text = page_text(admin.get(URL))
    assert "Version 2" in text
    assert "08:00–22:00 3 / 2" in text
    assert "08:00–22:00 1 / 2" in text
    assert text.count("Ada Admin") >= 3  # the navbar and two history rows


def test_window_ending_before_it_starts_is_refused_and_kept(app, admin):
    """End before start: the error is shown, the typed values kept and no version is made."""
    response = _save(admin, window_start="21:00", window_end="09:00", sms_cap="4")
    assert response.status_code == 422
    assert "The contact window must end after it starts." in page_text(response)
    html = response.get_data(as_text=True)
    assert _value(html, "CN-window_start") == "21:00"
    assert _value(html, "CN-sms_cap") == "4"
    assert _current(app).version == 0
    assert _events(app, "rulebook.saved") == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("sms_cap", "-1", "Enter a whole number of 0 or more."),
        ("max_dial_attempts_per_day", "-2", "Enter a whole number of 0 or more."),
        ("unreachable_after_attempts", "0", "Enter a whole number of 1 or more."),
        ("window_start", "8am", "Not a valid time value."),
        ("window_end", "", "Enter a time as HH:MM."),
        ("email_cap", "", "Please enter a number."),
    ],
)
def test_invalid_numbers_and_times_are_refused(app, admin, field, value, message):
    """Negative limits, bad times and missing caps are shown next to the field."""
    response = _save(admin, **{field: value})
    assert response.status_code == 422
    assert message in page_text(response)
    assert _current(app).version == 0


def test_errors_raised_by_the_rulebook_service_are_shown(app, admin, monkeypatch):
    """If save_rulebook refuses the thresholds, its message is shown and nothing is saved."""

    def refuse(*args, **kwargs):
        raise InvalidRulebook("the rules contradict each other")

    monkeypatch.setattr(rulebook_routes, "save_rulebook_thresholds", refuse)
    response = _save(admin)
    assert response.status_code == 422
    assert "the rules contradict each other" in page_text(response)
    assert _current(app).version == 0


def test_an_unknown_rulebook_is_not_found(admin):
    """Only rulebooks with built-in rules can be edited."""
    assert _save(admin, code="XX").status_code == 404


def test_changing_the_lender_rulebook_is_saved_and_audited(app, admin):
    """The lender's rulebook setting changes and the change is audited once."""
    token = csrf_token(admin, URL)
    response = admin.post(f"{URL}/lender", data={"csrf_token": token, "code": "US_REG_F"})
    assert response.status_code == 303
    with app.app_context():
        assert lender_rulebook_code() == "US_REG_F"
        setting = db.session.get(PortalSetting, "rulebook")
        assert setting is not None
        assert setting.updated_by is not None
    (event,) = _events(app, "rulebook.lender_changed")
    assert event.details == {"from": "CN", "to": "US_REG_F"}
    admin.post(f"{URL}/lender", data={"csrf_token": token, "code": "US_REG_F"})
    assert len(_events(app, "rulebook.lender_changed")) == 1  # no change, no event
    assert "In force for the lender: United States" in page_text(admin.get(URL))


def test_an_unknown_lender_rulebook_is_refused(app, admin):
    """A code that is not a rulebook is not accepted as the lender's."""
    token = csrf_token(admin, URL)
    response = admin.post(f"{URL}/lender", data={"csrf_token": token, "code": "XX"})
    assert response.status_code == 422
    with app.app_context():
        assert lender_rulebook_code() == "CN"
