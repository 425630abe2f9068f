"""Why the audit chain is broken, in the reader's words."""

import pytest
from flask_babel import force_locale

from portal.audit.labels import CHAIN_FAILURE_LABELS, chain_failure_label


@pytest.mark.parametrize("reason", sorted(CHAIN_FAILURE_LABELS))
def test_every_recorded_reason_reads_in_chinese(app_ctx, reason):
    """Each reason the verifier records has Chinese words, not the recorded English."""
    with force_locale("zh_CN"):
        text = chain_failure_label(reason)
    assert text != reason
    assert any("\u4e00" <= char <= "\u9fff" for char in text)


def test_a_cut_log_names_both_events(app_ctx):
    """The reason for a log cut below its verified point keeps both numbers."""
    with force_locale("en"):
        text = chain_failure_label("the chain ends at event 7, but was verified up to 9")
    assert text == "the log ends at event 7, but was verified up to event 9"


def test_an_unknown_reason_is_shown_as_recorded(app_ctx):
    """A reason without words is shown rather than hidden."""
    assert chain_failure_label("something new") == "something new"
    assert chain_failure_label(None) == ""
