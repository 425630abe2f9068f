"""Staff template pages: the grid, the editor (admins save, others read), history, live preview."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.auth.models import Channel, Role
from portal.extensions import db
from portal.messaging.default_templates import channels_for
from portal.messaging.purposes import PURPOSES
from portal.messaging.samples import sample_variables
from portal.messaging.staff.templates.preview import preview_template
from portal.messaging.templates import latest_version, save_version
from tests.conftest import csrf_token, login, page_text

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
EDIT_URL = "/staff/messaging/templates/due_today/{channel}/{locale}"
PREVIEW_URL = "/staff/messaging/templates/preview"
VALID_SMS = "{{ borrower_name }}: {{ loan_reference }} is due today, {{ amount_due }}."


def _signed_in(client, make_user, role: Role, name: str = "Ada Admin"):
    login(client, make_user(role, locale="en", name=name))
    return client


@pytest.fixture
def admin(client, make_user):
    return _signed_in(client, make_user, Role.ADMIN)


def _save(app, body: str, *, channel=Channel.SMS, locale="en", subject="", html=None) -> int:
    with app.app_context():
        version = save_version(
            purpose_code="due_today",
            channel=channel,
            locale=locale,
            subject=subject,
            body_text=body,
            body_html=html,
            actor_id=None,
            now=NOW,
        )
        db.session.commit()
        return version.version


def _latest(app, channel=Channel.SMS, locale="en") -> int | None:
    with app.app_context():
        version = latest_version("due_today", channel, locale)
        return version.version if version else None


def _post(client, url: str, **fields):
    return client.post(url, data={"csrf_token": csrf_token(client, url), **fields})


def response_text(response) -> str:
    return response.get_json()["text"]


def _preview(client, **draft):
    token = csrf_token(client, EDIT_URL.format(channel="sms", locale="en"))
    payload = {"purpose": "due_today", "channel": "sms", "locale": "en", "subject": "", **draft}
    return client.post(PREVIEW_URL, json=payload, headers={"X-CSRFToken": token})


def test_grid_shows_every_template_with_its_version(app, templates_installed, make_user, client):
    """Every purpose is listed; each installed template shows v1, unused channels a dash."""
    collector = _signed_in(client, make_user, Role.COLLECTOR, name="Cole Collector")
    response = collector.get("/staff/messaging/templates")
    assert response.status_code == 200
    text = page_text(response)
    for spec in PURPOSES.values():
        assert str(spec.label) in text
    html = response.get_data(as_text=True)
    installed = sum(len(channels_for(code)) for code in PURPOSES) * 2
    assert len(re.findall(r">v1</a>", html)) == installed
    assert "missing" not in text
    cell = re.search(r'data-testid="cell-third_party_locate-email-en">(.*?)</td>', html, re.S)
    assert cell
    assert "—" in cell.group(1)


def test_grid_empty_state_says_how_to_install_defaults(admin):
    """With no templates, the page says which command installs the defaults."""
    text = page_text(admin.get("/staff/messaging/templates"))
    assert "No templates are installed yet" in text
    assert "flask --app wsgi messaging install-templates" in text
    assert "missing" in text


def test_admin_saves_a_new_version_and_it_is_audited(app, admin):
    """A valid draft becomes the next version, with an audit event and a confirmation."""
    _save(app, VALID_SMS)
    url = EDIT_URL.format(channel="sms", locale="en")
    response = _post(
        admin, url, body_text="Hi {{ borrower_name }}, {{ loan_reference }} {{ amount_due }}"
    )
    assert response.status_code == 303
    assert _latest(app) == 2
    assert "Saved as version 2" in page_text(admin.get(response.headers["Location"]))
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "template.saved")
        ).one()
        assert event.details == {
            "purpose": "due_today",
            "channel": "sms",
            "locale": "en",
            "version": 2,
        }
        assert event.actor_id is not None


def test_email_save_keeps_subject_and_html(app, admin):
    """On email the subject and the optional HTML part are stored with the text."""
    url = EDIT_URL.format(channel="email", locale="en")
    response = _post(
        admin,
        url,
        subject="Due today: {{ loan_reference }}",
        body_text=VALID_SMS,
        body_html="<p>{{ borrower_name }}</p>",
    )
    assert response.status_code == 303
    with app.app_context():
        version = latest_version("due_today", Channel.EMAIL, "en")
        assert version is not None
        assert (version.subject, version.body_html) == (
            "Due today: {{ loan_reference }}",
            "<p>{{ borrower_name }}</p>",
        )


def test_invalid_draft_shows_errors_and_keeps_the_text(app, admin):
    """Errors from validation appear next to the form and the draft is kept, escaped."""
    _save(app, VALID_SMS)
    draft = "Dear <b>{{ borrower_name }}</b>, {{ secret_code }}"
    response = _post(admin, EDIT_URL.format(channel="sms", locale="en"), body_text=draft)
    assert response.status_code == 422
    text = page_text(response)
    assert "The template was not saved" in text
    assert "Unknown variables: secret_code" in text
    assert "Required variables missing: amount_due, loan_reference" in text
    html = response.get_data(as_text=True)
    assert "Dear &lt;b&gt;{{ borrower_name }}&lt;/b&gt;, {{ secret_code }}" in html
    assert "<b>{{ borrower_name }}</b>" not in html
    assert _latest(app) == 1


@pytest.mark.parametrize("role", [Role.COLLECTOR, Role.AGENT])
def test_other_staff_read_templates_but_cannot_save(app, client, make_user, role):
    """Collectors and agents see the text read-only; saving is refused with 403."""
    _save(app, "<script>alert(1)</script> " + VALID_SMS)
    reader = _signed_in(client, make_user, role, name="Reader")
    url = EDIT_URL.format(channel="sms", locale="en")
    response = reader.get(url)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-testid="template-form"' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" not in html
    response = reader.post(url, data={"csrf_token": csrf_token(reader, url), "body_text": "x"})
    assert response.status_code == 403
    assert _latest(app) == 1


def test_editor_lists_the_purpose_variables_and_which_are_required(admin):
    """The variables of the purpose are listed; the required ones are marked."""
    html = admin.get(EDIT_URL.format(channel="sms", locale="en")).get_data(as_text=True)
    for name in PURPOSES["due_today"].variables:
        assert f'data-variable="{name}"' in html
    assert 'data-testid="required-loan_reference"' in html
    assert 'data-testid="required-amount_due"' in html
    assert 'data-testid="required-pay_url"' not in html


def test_history_lists_versions_and_an_old_version_can_be_viewed(app, admin):
    """Each version is in the history; ?version=1 shows the first text, unknown versions 404."""
    _save(app, "First. " + VALID_SMS)
    _save(app, "Second. " + VALID_SMS)
    url = EDIT_URL.format(channel="sms", locale="en")
    current = admin.get(url)
    history = re.search(
        r'data-testid="history">(.*?)</table>', current.get_data(as_text=True), re.S
    )
    assert history
    assert history.group(1).count("<tr") == 3
    assert "Second." in page_text(current)
    old = admin.get(url + "?version=1")
    assert "You are looking at version 1; the current version is 2" in page_text(old)
    assert "First." in old.get_data(as_text=True)
    assert admin.get(url + "?version=9").status_code == 404


@pytest.mark.parametrize(
    "path", ["nope/sms/en", "due_today/phone/en", "due_today/sms/fr", "due_today/sms/zh_TW"]
)
def test_unknown_purpose_channel_or_locale_is_not_found(admin, path):
    """Only real purposes, template channels and supported languages have an editor."""
    assert admin.get(f"/staff/messaging/templates/{path}").status_code == 404


def test_email_editor_has_a_sandboxed_preview_frame_and_settings_block(admin):
    """The HTML preview frame is sandboxed; the editor gets its settings from a JSON block."""
    html = admin.get(EDIT_URL.format(channel="email", locale="en")).get_data(as_text=True)
    assert re.search(r'<iframe id="preview-html" sandbox=""', html)
    assert 'id="template-editor-data" type="application/json"' in html
    assert "js/template-editor.js" in html
    assert "oninput=" not in html
    assert "onclick=" not in html


def test_preview_fills_the_draft_with_sample_values(admin):
    """The preview renders the draft with the English sample values and no errors."""
    response = _preview(admin, body_text=VALID_SMS)
    assert response.status_code == 200
    body = response.get_json()
    assert body["errors"] == []
    assert body["text"] == "Alex Chen: LN-DEMO-0001 is due today, CN¥1,055.00."
    assert body["html"] is None


def test_preview_uses_the_first_demo_borrower_as_sample_name(app, admin, make_user):
    """When demo borrowers exist, the sample name is the first one's."""
    make_user(Role.BORROWER, email="first@demo.test", name="Wang Fang 王芳")
    make_user(Role.BORROWER, email="second@demo.test", name="Li Na")
    assert response_text(_preview(admin, body_text=VALID_SMS)).startswith("Wang Fang 王芳:")


def test_preview_reports_errors_and_renders_nothing_it_cannot(admin):
    """A draft using an unknown variable comes back with the error and no text."""
    body = _preview(admin, body_text=VALID_SMS + " {{ bank_password }}").get_json()
    assert any("Unknown variables: bank_password" in error for error in body["errors"])
    assert body["text"] is None


def test_preview_of_email_html_escapes_the_values(admin, make_user):
    """Values filled into the HTML part are escaped (a name cannot inject markup)."""
    make_user(Role.BORROWER, email="x@demo.test", name="<img src=x onerror=alert(1)>")
    body = _preview(
        admin,
        channel="email",
        subject="{{ loan_reference }}",
        body_text=VALID_SMS,
        body_html="<p>Hello {{ borrower_name }}</p>",
    ).get_json()
    assert body["errors"] == []
    assert body["html"] == "<p>Hello &lt;img src=x onerror=alert(1)&gt;</p>"
    assert body["subject"] == "LN-DEMO-0001"


def test_preview_without_the_csrf_header_is_refused(admin):
    """A preview request without the CSRF header is refused as JSON."""
    payload = {"purpose": "due_today", "channel": "sms", "locale": "en", "body_text": VALID_SMS}
    response = admin.post(PREVIEW_URL, json=payload)
    assert response.status_code == 400
    assert response.get_json()["error"]["status"] == 400


def test_preview_refuses_an_unknown_purpose(admin):
    """A purpose that does not exist is a 422 in the same JSON shape."""
    response = _preview(admin, purpose="nope", body_text="x")
    assert response.status_code == 422
    assert response.get_json()["errors"] == ["Unknown purpose."]


def test_preview_is_for_admins_only(client, make_user):
    """A collector cannot use the preview endpoint."""
    collector = _signed_in(client, make_user, Role.COLLECTOR)
    assert _preview(collector, body_text=VALID_SMS).status_code == 403


def test_every_default_template_previews_without_errors(app, templates_installed):
    """The sample values fill every installed default in both languages."""
    with app.test_request_context():
        for code in PURPOSES:
            for locale in ("zh_CN", "en"):
                for channel in channels_for(code):
                    version = latest_version(code, channel, locale)
                    assert version is not None
                    result = preview_template(
                        purpose_code=code,
                        channel=channel,
                        locale=locale,
                        subject=version.subject,
                        body_text=version.body_text,
                        body_html=version.body_html,
                        now=NOW,
                    )
                    assert result.errors == [], (code, locale, channel)
                    assert result.text
                    assert "{{" not in result.text


def test_sample_values_cover_every_variable_in_the_locale_format(app_ctx):
    """Each purpose gets a value for every variable; money and dates follow the locale."""
    for code, spec in PURPOSES.items():
        for locale in ("zh_CN", "en"):
            values = sample_variables(code, locale, now=NOW)
            assert set(values) == set(spec.variables)
            assert not any(value.startswith("[") for value in values.values()), code
    zh = sample_variables("payment_receipt", "zh_CN", now=NOW)
    en = sample_variables("payment_receipt", "en", now=NOW)
    assert zh["amount_paid"] == "¥500.00"
    assert en["amount_paid"] == "CN¥500.00"
    assert zh["borrower_name"] == "张伟"
    assert "年" in sample_variables("due_today", "zh_CN", now=NOW)["due_date"]
    assert sample_variables("due_today", "en", now=NOW)["due_date"] == "December 1, 2026"
