"""Recorded codes shown to collectors in their own language."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from portal.collections.labels import rulebook_version_label, transition_reason


@pytest.mark.parametrize(
    ("reason", "english", "chinese"),
    [
        ("overdue 1 dpd", "1 day past due", "逾期 1 天"),
        ("31 dpd", "31 days past due", "逾期 31 天"),
        ("paid up", "arrears paid", "欠款已还清"),
        ("paid off", "loan paid off", "借款已结清"),
        ("written off", "loan written off", "借款已核销"),
        ("legal approval", "legal approval granted", "法律程序已获批准"),
        ("something new", "something new", "something new"),  # unknown: shown, not hidden
    ],
)
def test_transition_reasons_read_in_the_readers_language(app_ctx, reason, english, chinese):
    with force_locale("en"):
        assert transition_reason(reason) == english
    with force_locale("zh_CN"):
        assert transition_reason(reason) == chinese


@pytest.mark.parametrize(
    ("version", "english", "chinese"),
    [(0, "built-in rules", "内置规则"), (3, "version 3", "第 3 版")],
)
def test_rulebook_versions_read_in_the_readers_language(app_ctx, version, english, chinese):
    """Version 0 is the built-in rules (never "v0"); others are numbered."""
    with force_locale("en"):
        assert rulebook_version_label(version) == english
    with force_locale("zh_CN"):
        assert rulebook_version_label(version) == chinese
