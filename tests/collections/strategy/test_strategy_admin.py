"""The strategy page: the version in force as a form, saving new versions, errors, history."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.auth.models import Role
from portal.collections.models import CollectionStrategy
from portal.collections.strategy.services import DEFAULT_STRATEGY, current_strategy
from portal.extensions import db
from tests.conftest import csrf_token, login, page_text

URL = "/staff/collections/strategy"


@pytest.fixture
def admin(client, make_user):
    account = make_user(Role.ADMIN, locale="en", name="Ada Admin")
    login(client, account)
    client.account = account  # type: ignore[attr-defined]
    return client


def form_of(strategy: dict, token: str, *, base_version: int = 0, spare_rows: int = 2) -> dict:
    """The form fields a browser would send for ``strategy`` (spare bucket rows left empty)."""
    data = {
        "csrf_token": token,
        "base_version": str(base_version),
        "grace_days": str(strategy["grace_days"]),
    }
    buckets = [*strategy["buckets"], *[{}] * spare_rows]
    for index, bucket in enumerate(buckets):
        high = bucket.get("max_dpd")
        data[f"buckets-{index}-name"] = bucket.get("name", "")
        data[f"buckets-{index}-min_dpd"] = str(bucket.get("min_dpd", ""))
        data[f"buckets-{index}-max_dpd"] = "" if high is None else str(high)
    for index, stage in enumerate(sorted(strategy["stages"], key=lambda s: s["stage"])):
        data[f"stages-{index}-entry_dpd"] = str(stage["entry_dpd"])
        data[f"stages-{index}-cadence_days"] = str(stage["cadence_days"])
        data[f"stages-{index}-purpose"] = stage["purpose"]
        data[f"stages-{index}-channels"] = list(stage["channels"])  # type: ignore[assignment]
    return data


def value_of(html: str, name: str) -> str | None:
    """The value an input named ``name`` shows, or None if there is no such input."""
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', html)
    if match is None:
        return None
    value = re.search(r'value="([^"]*)"', match.group(0))
    return value.group(1) if value else ""


def _versions(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(CollectionStrategy)) or 0


def _saved_audits(app) -> list[AuditEvent]:
    with app.app_context():
        return list(
            db.session.scalars(select(AuditEvent).where(AuditEvent.action == "strategy.saved"))
        )


def test_shows_the_defaults_as_an_editable_form(admin):
    """Version 0: grace days, every bucket, the four stages with channels, cadence, message."""
    response = admin.get(URL)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = page_text(response)
    assert "Built-in defaults in force (version 0)" in text
    assert value_of(html, "grace_days") == "0"
    for index, bucket in enumerate(DEFAULT_STRATEGY["buckets"]):
        assert value_of(html, f"buckets-{index}-name") == bucket["name"]
    assert value_of(html, "buckets-4-max_dpd") == ""  # open-ended
    assert value_of(html, "buckets-5-name") == ""  # a spare row
    assert value_of(html, "stages-2-entry_dpd") == "31"
    assert re.search(r'checked[^>]*name="stages-1-channels"[^>]*value="sms"', html)
    assert not re.search(r'checked[^>]*name="stages-0-channels"[^>]*value="sms"', html)
    assert '<option selected value="overdue_stage_2">' in html
    assert "4 · Legal" in text
    assert "Never changed: the built-in defaults apply." in text


def test_saving_creates_a_version_audits_it_and_lists_it(app, admin):
    """A valid save stores version 1, audits strategy.saved with the version, shows history."""
    settings = {**DEFAULT_STRATEGY, "grace_days": 3}
    settings["buckets"] = [
        {"name": "early", "min_dpd": 1, "max_dpd": 15},
        {"name": "late", "min_dpd": 16, "max_dpd": None},
    ]
    response = admin.post(URL, data=form_of(settings, csrf_token(admin, URL)))

    assert response.status_code == 303
    with app.app_context():
        saved = current_strategy()
    assert saved.version == 1
    assert saved.grace_days == 3
    assert saved.buckets == settings["buckets"]
    channels_sorted = [s | {"channels": sorted(s["channels"])} for s in saved.settings["stages"]]
    assert channels_sorted == [
        s | {"channels": sorted(s["channels"])} for s in DEFAULT_STRATEGY["stages"]
    ]
    events = _saved_audits(app)
    assert len(events) == 1
    assert events[0].actor_id == admin.account.id
    assert events[0].details["version"] == 1
    assert events[0].object_id == "1"
    page = admin.get(response.headers["Location"])
    text = page_text(page)
    assert "Saved the strategy as version 1." in text
    assert "Version 1 in force" in text
    assert re.search(r"1 Ada Admin .* 3 early, late 1 → 4 → 31 → 91", text)


def test_a_spare_row_adds_a_bucket_and_an_emptied_row_removes_one(app, admin):
    """Rows left blank are dropped; a filled-in spare row becomes a bucket."""
    data = form_of(DEFAULT_STRATEGY, csrf_token(admin, URL))
    for field in ("name", "min_dpd", "max_dpd"):  # remove 180+ ...
        data[f"buckets-4-{field}"] = ""
    data["buckets-3-max_dpd"] = "360"  # ... 91-360, then 361+ in the first spare row
    data.update({"buckets-5-name": "361+", "buckets-5-min_dpd": "361", "buckets-5-max_dpd": ""})

    assert admin.post(URL, data=data).status_code == 303
    with app.app_context():
        names = [(b["name"], b["min_dpd"], b["max_dpd"]) for b in current_strategy().buckets]
    assert names[-2:] == [("91-180", 91, 360), ("361+", 361, None)]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"buckets-1-min_dpd": "25"},
            "Bucket 31-60 must start at 31 days past due (no gaps, no overlaps).",
        ),
        ({"buckets-2-min_dpd": ""}, "Bucket 61-90 must start at 61 days past due"),
        ({"buckets-4-max_dpd": "400"}, "The last bucket must be open-ended."),
        (
            {"stages-2-entry_dpd": "3"},
            "Stage entry thresholds must start at 1 and increase with each stage.",
        ),
        ({"stages-1-cadence_days": "0"}, "Stage 2 needs a cadence of at least one day."),
        ({"grace_days": "45"}, "The grace period must be 0 to 30 days."),
    ],
)
def test_invalid_strategies_are_explained_and_the_input_kept(app, admin, change, message):
    """The strategy's own checks are listed; nothing is saved or audited; the input stays."""
    data = form_of(DEFAULT_STRATEGY, csrf_token(admin, URL)) | change
    response = admin.post(URL, data=data)

    assert response.status_code == 422
    text = page_text(response)
    assert "The strategy was not saved. Please correct:" in text
    assert message in text
    html = response.get_data(as_text=True)
    field, value = next(iter(change.items()))
    assert value_of(html, field) == value
    assert _versions(app) == 0
    assert _saved_audits(app) == []


def test_text_where_a_number_is_needed_is_marked_at_its_field(app, admin):
    """'ten' for a cadence: a message at the field, the text kept, nothing saved."""
    data = form_of(DEFAULT_STRATEGY, csrf_token(admin, URL)) | {"stages-0-cadence_days": "ten"}
    response = admin.post(URL, data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    field = re.search(r'<input[^>]*id="stages-0-cadence_days"[^>]*>', html)
    assert field is not None
    assert "is-invalid" in field.group(0)
    assert value_of(html, "stages-0-cadence_days") == "ten"
    assert "Enter a whole number of days, such as 30." in page_text(response)
    assert _versions(app) == 0


def test_a_change_saved_meanwhile_is_not_overwritten(app, admin, make_user, client):
    """An admin editing version 0 after someone saved version 1 is told, and nothing is lost."""
    data = form_of(DEFAULT_STRATEGY, csrf_token(admin, URL))
    assert admin.post(URL, data=data | {"grace_days": "2"}).status_code == 303

    stale = form_of(DEFAULT_STRATEGY, csrf_token(admin, URL)) | {"grace_days": "5"}
    response = admin.post(URL, data=stale)  # still says base_version 0

    assert response.status_code == 409
    assert "Someone saved a new version while you were editing." in page_text(response)
    html = response.get_data(as_text=True)
    assert value_of(html, "grace_days") == "5"
    assert value_of(html, "base_version") == "1"
    with app.app_context():
        assert current_strategy().grace_days == 2


def test_collectors_read_the_strategy_but_cannot_save(app, client, make_user):
    """Collectors see the form disabled and without a save button; a POST is refused."""
    login(client, make_user(Role.COLLECTOR, locale="en"))
    response = client.get(URL)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<fieldset disabled>" in html
    assert 'data-testid="save-strategy"' not in html
    assert "Only admins can change the strategy." in page_text(response)
    data = form_of(DEFAULT_STRATEGY, csrf_token(client, URL)) | {"grace_days": "9"}
    assert client.post(URL, data=data).status_code == 403
    assert _versions(app) == 0


@pytest.mark.parametrize("role", [Role.AGENT, Role.BORROWER])
def test_agents_and_borrowers_are_refused(client, make_user, role):
    """Neither agents nor borrowers read the strategy."""
    login(client, make_user(role, locale="en"))
    assert client.get(URL).status_code == 403


def test_a_save_without_the_form_token_is_refused(app, admin):
    """CSRF: no token, no new version."""
    data = form_of(DEFAULT_STRATEGY, "")
    del data["csrf_token"]
    assert admin.post(URL, data=data).status_code == 400
    assert _versions(app) == 0
