"""The collection strategy: what validation refuses, and how saving versions it."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

import portal.messaging.notices.services as notices_module
from portal.auth.models import Channel
from portal.collections.models import CollectionStrategy
from portal.collections.strategy.services import (
    DEFAULT_STRATEGY,
    OVERDUE_NOTICE_VARIABLES,
    InvalidStrategy,
    current_strategy,
    save_strategy,
    validate_strategy,
)
from portal.extensions import db
from portal.messaging.renderings import variables_in

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


def strategy(**changes) -> dict:
    settings = copy.deepcopy(DEFAULT_STRATEGY)
    settings.update(changes)
    return settings


def buckets(*ranges: tuple[int, int | None]) -> list[dict]:
    return [
        {"name": f"b{index}", "min_dpd": low, "max_dpd": high}
        for index, (low, high) in enumerate(ranges)
    ]


def with_stage(number: int, **changes) -> dict:
    settings = strategy()
    next(s for s in settings["stages"] if s["stage"] == number).update(changes)
    return settings


def test_the_default_strategy_is_valid():
    """The built-in strategy passes its own validation."""
    assert validate_strategy(DEFAULT_STRATEGY) == []


@pytest.mark.parametrize("grace", [-1, 31, "3", None])
def test_grace_period_out_of_range_is_refused(grace):
    """Grace must be a whole number of days from 0 to 30."""
    assert validate_strategy(strategy(grace_days=grace)) == [
        "The grace period must be 0 to 30 days."
    ]


@pytest.mark.parametrize("grace", [0, 30])
def test_grace_period_limits_are_accepted(grace):
    """0 and 30 days are both allowed."""
    assert validate_strategy(strategy(grace_days=grace)) == []


def test_overlapping_buckets_are_refused():
    """A bucket starting inside the previous one overlaps it."""
    errors = validate_strategy(strategy(buckets=buckets((1, 30), (30, 60), (61, None))))
    assert errors == ["Bucket b1 must start at 31 days past due (no gaps, no overlaps)."]


def test_gaps_between_buckets_are_refused():
    """A day that falls in no bucket is a gap."""
    errors = validate_strategy(strategy(buckets=buckets((1, 30), (32, 60), (61, None))))
    assert errors == ["Bucket b1 must start at 31 days past due (no gaps, no overlaps)."]


def test_the_first_bucket_starts_at_one_day_past_due():
    """Day 1 must have a bucket."""
    errors = validate_strategy(strategy(buckets=buckets((2, 30), (31, None))))
    assert errors == ["Bucket b0 must start at 1 days past due (no gaps, no overlaps)."]


def test_an_open_ended_bucket_before_the_last_is_refused():
    """Only the last bucket may have no upper end."""
    errors = validate_strategy(strategy(buckets=buckets((1, None), (31, None))))
    assert "Only the last bucket may be open-ended." in errors


def test_a_closed_last_bucket_is_refused():
    """Days past due beyond the last bucket would fall nowhere."""
    errors = validate_strategy(strategy(buckets=buckets((1, 30), (31, 60))))
    assert errors == ["The last bucket must be open-ended."]


def test_a_bucket_ending_before_it_starts_is_refused():
    """max_dpd below min_dpd is refused."""
    errors = validate_strategy(strategy(buckets=buckets((1, 30), (31, 20), (21, None))))
    assert "Bucket b1 ends before it starts." in errors


def test_one_open_ended_bucket_alone_is_valid():
    """A single bucket 1+ is a valid, if coarse, strategy."""
    assert validate_strategy(strategy(buckets=buckets((1, None)))) == []


def test_buckets_are_required_and_named_uniquely():
    """No buckets, duplicate names or a blank name are refused."""
    assert "At least one bucket is needed." in validate_strategy(strategy(buckets=[]))
    same = buckets((1, 30), (31, None))
    same[1]["name"] = "b0"
    assert validate_strategy(strategy(buckets=same)) == [
        "Bucket names must be present and different."
    ]
    blank = buckets((1, 30), (31, None))
    blank[0]["name"] = ""
    assert "Bucket names must be present and different." in validate_strategy(
        strategy(buckets=blank)
    )


def test_bucket_names_must_fit_the_bucket_column():
    """Cases store the bucket name in 20 characters: a longer name would break every run."""
    long = buckets((1, 30), (31, None))
    long[1]["name"] = "31 or more days late!"  # 21 characters
    assert validate_strategy(strategy(buckets=long)) == [
        "Bucket names may have at most 20 characters."
    ]
    long[1]["name"] = long[1]["name"][:20]
    assert validate_strategy(strategy(buckets=long)) == []


@pytest.mark.parametrize(
    "entries",
    [(1, 4, 4, 91), (1, 31, 4, 91), (1, 4, 31, 31), (1, 4, 31, 20), (2, 4, 31, 91), (0, 4, 31, 91)],
)
def test_stage_thresholds_must_start_at_one_and_increase(entries):
    """Equal or falling thresholds, or a first stage not at 1 DPD, are refused."""
    settings = strategy()
    for stage, entry in zip(settings["stages"], entries, strict=True):
        stage["entry_dpd"] = entry
    assert validate_strategy(settings) == [
        "Stage entry thresholds must start at 1 and increase with each stage."
    ]


def test_non_integer_thresholds_are_refused():
    """A threshold given as text is refused, not compared."""
    assert validate_strategy(with_stage(2, entry_dpd="4")) == [
        "Stage entry thresholds must start at 1 and increase with each stage."
    ]


@pytest.mark.parametrize("numbers", [(1, 2, 3), (1, 2, 3, 3), (1, 2, 3, 5), (0, 1, 2, 3)])
def test_exactly_the_four_stages_are_required(numbers):
    """Missing, repeated or extra stage numbers are refused."""
    settings = strategy()
    template = settings["stages"][0]
    settings["stages"] = [
        template | {"stage": n, "entry_dpd": 1 + 10 * i} for i, n in enumerate(numbers)
    ]
    assert validate_strategy(settings) == ["The strategy needs exactly the four stages 1 to 4."]


def test_unknown_channels_are_refused():
    """Stages contact only through the portal, email or SMS."""
    assert validate_strategy(with_stage(2, channels=["portal", "fax"])) == [
        "Stage 2 has an unknown channel."
    ]


def test_cadence_must_be_at_least_a_day():
    """A stage contacting every 0 days is refused."""
    assert validate_strategy(with_stage(3, cadence_days=0)) == [
        "Stage 3 needs a cadence of at least one day."
    ]


def test_unknown_purposes_are_refused():
    """A purpose that does not exist cannot be a stage's message."""
    assert validate_strategy(with_stage(1, purpose="overdue_stage_9")) == [
        "Stage 1 uses an unknown message purpose."
    ]


@pytest.mark.parametrize(
    "purpose",
    [
        "payment_receipt",  # a required notice: holds and opt-outs would not stop it
        "due_today",  # a reminder, not a collection message
        "lawyer_letter",  # needs a deadline the run does not have: rendering would fail
        "third_party_locate",  # for an emergency contact, not the borrower
    ],
)
def test_purposes_the_run_cannot_send_as_an_overdue_notice_are_refused(purpose):
    """A stage's message must be a collection notice to the borrower that the run can fill in."""
    assert validate_strategy(with_stage(2, purpose=purpose)) == [
        "Stage 2 must use an overdue notice to the borrower."
    ]


def test_the_notice_variables_are_those_the_overdue_notice_fills(
    app_ctx, make_user, make_loan, monkeypatch
):
    """OVERDUE_NOTICE_VARIABLES matches what send_overdue_notice really passes to the outbox."""
    seen: dict = {}
    monkeypatch.setattr(
        notices_module,
        "enqueue",
        lambda **kwargs: seen.update(variables_in(kwargs["variables"], "en")),
    )
    loan_id = make_loan(make_user().id, disbursed_on=date(2026, 1, 15))
    notices_module.send_overdue_notice(loan_id, channel=Channel.PORTAL, now=NOW)
    assert set(seen) == OVERDUE_NOTICE_VARIABLES


# --- Saving --------------------------------------------------------------------------------


def test_without_a_saved_version_the_default_is_version_zero(app_ctx):
    """A fresh database runs on DEFAULT_STRATEGY as version 0 (a copy, not the constant)."""
    current = current_strategy()
    assert (current.version, current.settings) == (0, DEFAULT_STRATEGY)
    current.settings["grace_days"] = 9
    assert DEFAULT_STRATEGY["grace_days"] == 0


def test_each_save_is_a_new_version_and_the_newest_is_in_force(app_ctx, make_user):
    """Saving twice keeps both versions; current_strategy returns the second."""
    from portal.auth.models import Role

    admin = make_user(Role.ADMIN)
    first = save_strategy(strategy(grace_days=2), actor_id=admin.id, now=NOW)
    second = save_strategy(strategy(grace_days=5), actor_id=admin.id, now=NOW)
    db.session.commit()
    assert (first.version, second.version) == (1, 2)
    current = current_strategy()
    assert (current.version, current.grace_days) == (2, 5)
    rows = db.session.execute(
        select(CollectionStrategy.version, CollectionStrategy.created_by).order_by(
            CollectionStrategy.version
        )
    ).all()
    assert [tuple(row) for row in rows] == [(1, admin.id), (2, admin.id)]
    assert db.session.get(CollectionStrategy, 1).settings["grace_days"] == 2


def test_an_invalid_strategy_is_not_saved(app_ctx):
    """InvalidStrategy lists every problem and no version is written."""
    settings = strategy(grace_days=40, buckets=buckets((1, 30), (40, None)))
    with force_locale("en"), pytest.raises(InvalidStrategy) as raised:
        save_strategy(settings, actor_id=None, now=NOW)
    assert raised.value.errors == [
        "The grace period must be 0 to 30 days.",
        "Bucket b1 must start at 31 days past due (no gaps, no overlaps).",
    ]
    assert raised.value.status_code == 422
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(CollectionStrategy)) == 0
    assert current_strategy().version == 0
