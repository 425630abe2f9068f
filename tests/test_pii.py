"""Masking personal data: one rule per kind, used by the case page and the lawyer letter."""

from __future__ import annotations

import pytest

from portal.pii import mask_email, mask_phone


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("+8613800138000", "138****8000"),
        ("13800138000", "138****8000"),
        ("+447700900123", "447*****0123"),
        ("12345", "***45"),
        ("", ""),
        (None, ""),
    ],
)
def test_phone_keeps_the_first_three_and_last_four_digits(phone, masked):
    """A +86 prefix is dropped; short numbers keep only their last two digits."""
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("email", "masked"),
    [
        ("wang@demo.test", "w***@demo.test"),
        ("wang.fang@example.com", "w***@example.com"),
        ("no-at-sign", "***"),
        ("", ""),
        (None, ""),
    ],
)
def test_email_keeps_the_first_character_and_the_domain(email, masked):
    """The local part is hidden but for its first character; the domain is shown."""
    assert mask_email(email) == masked
