"""The template sandbox refuses huge powers and repetitions and caps what it renders."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from portal.messaging.templates import RenderFailed, render


@pytest.mark.parametrize(
    "body",
    [
        "{{ 10**5000 }}",
        "{{ 9**99999999 }}",
        "{{ 9**9**9**9**9 }}",
        "{{ 'x'*50000000 }}",
        "{{ 50000000*'x' }}",
        "{{ 'x'*99999 }}{{ 'y'*99999 }}",
        "{{ 1/0 }}",
    ],
)
def test_render_refuses_what_would_hang_or_flood(body):
    """Power, repetition and output size are bounded: RenderFailed, quickly, never a crash."""
    version = SimpleNamespace(subject="", body_text=body, body_html=None)
    with pytest.raises(RenderFailed):
        render(version, {})  # type: ignore[arg-type]


def test_render_still_does_small_arithmetic():
    """Ordinary expressions still render."""
    version = SimpleNamespace(subject="", body_text="{{ 2**10 }} {{ 'ab'*2 }}", body_html=None)
    assert render(version, {}).body_text == "1024 abab"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("{{ 'x'*99999 }}{{ 'y'*99999 }}", "The message would be too long."),
        ("{{ 10**5000 }}", "cannot be written with sample values"),
        ("{{ 1/0 }}", "cannot be written with sample values"),
    ],
)
def test_a_template_that_cannot_be_written_is_refused_at_save(app_ctx, body, says):
    """Saving fills the template with sample values first, so it fails there, not at sending."""
    from flask_babel import force_locale

    from portal.auth.models import Channel
    from portal.messaging.templates import validate_template

    with force_locale("en"):
        errors = validate_template(
            purpose_code="due_today",
            channel=Channel.PORTAL,
            locale="en",
            subject="Due",
            body_text="{{ loan_reference }} {{ amount_due }} " + body,
            body_html=None,
        )
    assert any(says in error for error in errors), errors
