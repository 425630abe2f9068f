"""Unsubscribing from an email link without signing in: confirm, form, one-click, bad links."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.auth.models import Channel, ContactPreference, Role
from portal.extensions import db
from portal.messaging.dispatch import dispatch_due
from portal.messaging.models import Message, MessageStatus
from portal.messaging.unsubscribe.services import unsubscribe_token
from tests.conftest import CSRF_PATTERN, page_text
from tests.messaging.channels.conftest import HOST, queue_email, running_sink

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai: inside the contact window
EN = {"Accept-Language": "en"}
ONE_CLICK = {"List-Unsubscribe": "One-Click"}
INVALID = "This unsubscribe link is not valid."


@pytest.fixture
def borrower(make_user):
    return make_user(Role.BORROWER, locale="en")


def link(app, borrower_id: int, channel: str = "email") -> str:
    with app.app_context():
        return f"/unsubscribe/{unsubscribe_token(borrower_id, channel)}"


def opt_outs(app, borrower_id: int) -> list[Channel]:
    """The channels the borrower has opted out of."""
    with app.app_context():
        return list(
            db.session.scalars(
                select(ContactPreference.channel).where(
                    ContactPreference.borrower_id == borrower_id,
                    ContactPreference.allowed.is_(False),
                )
            )
        )


def opt_out_audits(app) -> list[dict]:
    with app.app_context():
        return [
            {"object_id": event.object_id, **event.details}
            for event in db.session.scalars(
                select(AuditEvent).where(AuditEvent.action == "contact.opt_out")
            )
        ]


def test_get_asks_first_and_changes_nothing(app, client, borrower):
    """Opening the link shows a confirmation form with a CSRF token; nothing is opted out."""
    response = client.get(link(app, borrower.id), headers=EN)

    assert response.status_code == 200
    assert "Stop receiving emails from Settle?" in page_text(response)
    assert "payment receipts, will still reach you" in page_text(response)
    assert CSRF_PATTERN.search(response.get_data(as_text=True))
    assert opt_outs(app, borrower.id) == []


@pytest.mark.parametrize(
    ("locale", "accept", "query", "html_lang"),
    [
        ("zh_CN", "en", "", "zh-CN"),  # the borrower's language beats the browser's
        ("en", "zh-CN", "", "en"),
        ("zh_CN", "en", "?lang=en", "en"),  # an explicit choice beats both
    ],
)
def test_pages_are_in_the_borrowers_language(
    app, client, make_user, locale, accept, query, html_lang
):
    """The token names the borrower, so the page uses their language unless the visitor chose."""
    account = make_user(Role.BORROWER, locale=locale)

    response = client.get(link(app, account.id) + query, headers={"Accept-Language": accept})

    assert response.status_code == 200
    assert f'<html lang="{html_lang}">' in response.get_data(as_text=True)


def test_the_form_unsubscribes_and_is_audited(app, client, borrower):
    """Submitting the confirmation form opts out of email, once, with source email_link."""
    url = link(app, borrower.id)
    token = CSRF_PATTERN.search(client.get(url, headers=EN).get_data(as_text=True))
    assert token is not None

    response = client.post(url, data={"csrf_token": token.group(1)}, headers=EN)

    assert response.status_code == 200
    assert "You have unsubscribed" in page_text(response)
    assert opt_outs(app, borrower.id) == [Channel.EMAIL]
    assert opt_out_audits(app) == [
        {"object_id": str(borrower.id), "channel": "email", "source": "email_link"}
    ]


def test_a_post_without_csrf_token_or_one_click_body_is_refused(app, client, borrower):
    """Only the one-click body may skip CSRF: an empty or other POST is a 400, no change."""
    for body in ({}, {"List-Unsubscribe": "yes"}):
        response = client.post(link(app, borrower.id), data=body, headers=EN)
        assert response.status_code == 400
        assert "Your form expired" in page_text(response)
    assert opt_outs(app, borrower.id) == []


def test_rfc_8058_one_click_works_without_a_session(app, client, borrower):
    """A mail client's one-click POST (no cookie, no CSRF token) unsubscribes."""
    response = client.post(link(app, borrower.id), data=ONE_CLICK, headers=EN)

    assert response.status_code == 200
    assert "You have unsubscribed" in page_text(response)
    assert opt_outs(app, borrower.id) == [Channel.EMAIL]
    assert opt_out_audits(app)[0]["source"] == "email_one_click"


def _tampered_tokens(app, borrower_id: int) -> list[str]:
    with app.app_context():
        good = unsubscribe_token(borrower_id, "email")
        payload, signature = good.rsplit(".", 1)
        other_key = URLSafeSerializer("another-secret", salt="settle-unsubscribe")
        return [
            "garbage",
            f"{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}",
            other_key.dumps([borrower_id, "email"]),  # someone else's key
            unsubscribe_token(999_999, "email"),  # signed, but no such borrower
            unsubscribe_token(borrower_id, "fax"),  # signed, but no such channel
            URLSafeSerializer(app.config["SECRET_KEY"], salt="settle-unsubscribe").dumps(7),
        ]


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_link_is_a_400_and_changes_nothing(app, client, borrower, method):
    """Bad, forged or foreign tokens get a localized 400 page; no preference, no audit."""
    for token in _tampered_tokens(app, borrower.id):
        send = getattr(client, method)
        kwargs = {"data": ONE_CLICK} if method == "post" else {}
        response = send(f"/unsubscribe/{token}", headers=EN, **kwargs)
        assert response.status_code == 400, token
        assert INVALID in page_text(response), token
    assert opt_outs(app, borrower.id) == []
    assert opt_out_audits(app) == []


def test_the_error_page_is_localized(app, client):
    """A Chinese-speaking visitor gets the error page in Chinese."""
    response = client.get("/unsubscribe/garbage", headers={"Accept-Language": "zh-CN"})

    assert response.status_code == 400
    assert '<html lang="zh-CN">' in response.get_data(as_text=True)


def test_unsubscribing_twice_is_harmless_and_says_so(app, client, borrower):
    """The second request changes nothing, says so, and is not audited again."""
    url = link(app, borrower.id)
    client.post(url, data=ONE_CLICK, headers=EN)

    again = client.post(url, data=ONE_CLICK, headers=EN)
    page = client.get(url, headers=EN)

    assert again.status_code == 200
    assert "You are already unsubscribed" in page_text(again)
    assert "You are already unsubscribed" in page_text(page)
    assert 'data-testid="unsubscribe"' not in page.get_data(as_text=True)  # nothing to confirm
    assert opt_outs(app, borrower.id) == [Channel.EMAIL]
    assert len(opt_out_audits(app)) == 1


def test_after_unsubscribing_reminders_are_blocked_but_receipts_still_go(app, client, borrower):
    """The guard blocks reminders with opt_out:email, queued or new; a receipt still arrives."""
    with running_sink() as sink:
        app.config.update(SMTP_HOST=HOST, SMTP_PORT=sink.port)
        with app.app_context():
            queued_before = queue_email(borrower.id, NOW).id

        assert client.post(link(app, borrower.id), data=ONE_CLICK).status_code == 200

        with app.app_context():
            new_reminder = queue_email(borrower.id, NOW)
            receipt = queue_email(borrower.id, NOW, purpose_code="payment_receipt")
            assert (new_reminder.status, new_reminder.blocked_rule) == (
                MessageStatus.BLOCKED,
                "opt_out:email",
            )
            assert receipt.status is MessageStatus.QUEUED
            receipt_key = receipt.idempotency_key
            report = dispatch_due(lambda: NOW)
            assert (report.sent, report.blocked) == (1, 1)
            before = db.session.get(Message, queued_before)
            assert before is not None
            assert (before.status, before.blocked_rule) == (MessageStatus.BLOCKED, "opt_out:email")
            assert (
                db.session.scalar(select(Message.status).where(Message.id == receipt.id))
                is MessageStatus.SENT
            )

        [received] = sink.messages
        assert received.message["Subject"] == "We have received your payment"
        assert receipt_key in str(received.message["Message-ID"])
