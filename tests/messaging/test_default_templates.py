from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from portal.auth.models import Channel
from portal.extensions import db
from portal.messaging.channels.sms import OPT_OUT_LINES
from portal.messaging.default_templates import (
    LOCALES,
    channels_for,
    default_for,
    default_texts,
    install_default_templates,
)
from portal.messaging.models import ContactKind, MessageTemplate
from portal.messaging.purposes import PURPOSES
from portal.messaging.templates import latest_version, render, save_version, validate_template

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
# 15 borrower purposes on portal, email and SMS, the emergency-contact one on SMS only; 2 locales.
EXPECTED_COUNT = (len(PURPOSES) - 1) * 3 * 2 + 1 * 2


def test_defaults_cover_every_purpose_in_both_locales():
    """There is exactly one default text for each purpose in Chinese and in English."""
    assert set(default_texts()) == {(code, locale) for code in PURPOSES for locale in LOCALES}
    assert len(default_texts()) == 32


def test_every_default_passes_template_validation(app_ctx):
    """Each purpose, locale and channel default validates with no errors."""
    problems = {}
    for code, locale in default_texts():
        for channel in channels_for(code):
            subject, body_text = default_for(code, channel, locale)
            errors = validate_template(
                purpose_code=code,
                channel=channel,
                locale=locale,
                subject=subject,
                body_text=body_text,
                body_html=None,
            )
            if errors:
                problems[(code, locale, channel.value)] = errors
    assert problems == {}


def test_collection_and_reminder_texts_end_with_an_opt_out_line():
    """SMS reminders and collection messages end with how to opt out; required notices need not."""
    for (code, locale), text in default_texts().items():
        if PURPOSES[code].kind is ContactKind.REQUIRED_NOTICE:
            continue
        assert text.short.endswith(OPT_OUT_LINES[locale]), (code, locale)


def test_install_creates_every_default_once(app_ctx):
    """The first install creates all 92 templates; a second install creates none."""
    assert EXPECTED_COUNT == 92
    assert install_default_templates(now=NOW) == 92
    assert db.session.scalar(select(func.count()).select_from(MessageTemplate)) == 92
    assert latest_version("third_party_locate", Channel.EMAIL, "zh_CN") is None
    assert install_default_templates(now=NOW) == 0
    assert db.session.scalar(select(func.count()).select_from(MessageTemplate)) == 92


def test_install_keeps_a_template_an_admin_already_wrote(app_ctx):
    """An existing template is left as it is and only the missing ones are created."""
    custom = save_version(
        purpose_code="due_today",
        channel=Channel.SMS,
        locale="en",
        subject="",
        body_text="{{ loan_reference }}: {{ amount_due }} today.",
        body_html=None,
        actor_id=None,
        now=NOW,
    )
    assert install_default_templates(now=NOW) == 91
    assert latest_version("due_today", Channel.SMS, "en").id == custom.id


def test_chinese_overdue_email_renders_the_amounts(app_ctx):
    """The zh_CN stage-1 email default renders the split amounts and leaves no placeholder."""
    install_default_templates(now=NOW)
    version = latest_version("overdue_stage_1", Channel.EMAIL, "zh_CN")
    rendered = render(
        version,
        {
            "borrower_name": "李明",
            "portal_url": "https://settle.example.cn",
            "loan_reference": "LN-00042",
            "days_past_due": "12",
            "amount_overdue": "¥1,086.50",
            "principal_overdue": "¥1,000.00",
            "interest_overdue": "¥56.50",
            "fees_overdue": "¥30.00",
            "late_charges_overdue": "",
            "due_dates": "2026-11-16",
            "pay_url": "https://settle.example.cn/pay",
            "plans_url": "https://settle.example.cn/plans",
        },
    )
    for value in (
        "李明",
        "LN-00042",
        "12天",
        "¥1,086.50",
        "¥1,000.00",
        "¥56.50",
        "¥30.00",
        "2026-11-16",
        "https://settle.example.cn/pay",
        "https://settle.example.cn/plans",
    ):
        assert value in rendered.body_text
    assert rendered.subject == "逾期还款提醒"
    assert "{{" not in rendered.subject + rendered.body_text
    assert "逾期费用" not in rendered.body_text  # no late charges: not mentioned


@pytest.mark.parametrize(
    ("locale", "words"),
    [("zh_CN", "逾期费用（滞纳金、罚息）：¥15.00"), ("en", "Late charges: ¥15.00")],
)
def test_overdue_defaults_mention_late_charges_when_there_are_some(app_ctx, locale, words):
    """Every overdue default (email and SMS) names the late charges when they are not zero."""
    install_default_templates(now=NOW)
    for purpose in ("overdue_stage_1", "overdue_stage_2", "overdue_stage_3"):
        variables = {
            "borrower_name": "Li",
            "portal_url": "https://settle.example.cn",
            "loan_reference": "LN-00042",
            "days_past_due": "12",
            "amount_overdue": "¥1,101.50",
            "principal_overdue": "¥1,000.00",
            "interest_overdue": "¥56.50",
            "fees_overdue": "¥30.00",
            "late_charges_overdue": "¥15.00",
            "due_dates": "2026-11-16",
            "pay_url": "https://settle.example.cn/pay",
            "plans_url": "https://settle.example.cn/plans",
        }
        email = render(latest_version(purpose, Channel.EMAIL, locale), variables)
        sms = render(latest_version(purpose, Channel.SMS, locale), variables)
        assert words in email.body_text
        assert "¥15.00" in sms.body_text
