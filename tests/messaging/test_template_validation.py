from datetime import UTC, datetime

import pytest
from flask_babel import force_locale

from portal.auth.models import Channel
from portal.messaging.rulebooks import InvalidRulebook, save_rulebook
from portal.messaging.templates import validate_template

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def in_english(app_ctx):
    """Messages are checked in English; outside a request they follow DEFAULT_LOCALE."""
    with force_locale("en"):
        yield


BASE = {"purpose_code": "due_today", "channel": Channel.SMS, "locale": "en", "subject": ""}


def test_loops_and_macros_are_refused(app_ctx):
    """A loop could make a message endless: templates may not contain one."""
    errors = validate_template(
        **BASE,
        body_html=None,
        body_text="{{ loan_reference }} {{ amount_due }}{% for x in range(9) %}x{% endfor %}",
    )
    assert any("not loops or macros" in error for error in errors)


def test_if_blocks_are_fine(app_ctx):
    """Conditionals are allowed; a clean template has no errors."""
    errors = validate_template(
        **BASE,
        body_html=None,
        body_text="{{ loan_reference }}: {{ amount_due }}{% if pay_url %} {{ pay_url }}{% endif %}",
    )
    assert errors == []


def test_prohibited_wording_names_the_category_in_words(app_ctx):
    """The error says 'threat', not an internal code."""
    errors = validate_template(
        **BASE, body_html=None, body_text="{{ loan_reference }} {{ amount_due }} or jail"
    )
    assert any("Prohibited wording (Threats)" in error for error in errors)


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"window_start": "22:00", "window_end": "08:00"}, "must start before it ends"),
        ({"max_dial_attempts_per_day": -1}, "whole numbers"),
        ({"third_party_contact": "anyone"}, "third-party"),
        ({"colour": "red"}, "Unknown settings"),
    ],
)
def test_bad_rulebook_changes_are_refused_with_a_message(app_ctx, changes, says):
    """Invalid thresholds raise InvalidRulebook with a readable message and save nothing."""
    with pytest.raises(InvalidRulebook, match=says):
        save_rulebook("CN", changes, actor_id=None, now=NOW)
