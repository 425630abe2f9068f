"""The staff reconciliation page: admins only, both languages, empty state, bad dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal.auth.models import Role
from portal.extensions import db
from portal.loans.models import PaymentMethod
from portal.loans.services import record_payment
from tests.conftest import login, page_text

URL = "/staff/payments/reconciliation"


def _since() -> str:
    return (datetime.now(UTC) - timedelta(days=2)).date().isoformat()


@pytest.mark.parametrize("role", [Role.BORROWER, Role.AGENT, Role.COLLECTOR])
def test_only_admins_see_the_reconciliation(client, make_user, fake_stripe, role):
    login(client, make_user(role))

    assert client.get(URL).status_code == 403
    assert fake_stripe.requests == []


def test_anonymous_visitors_are_sent_to_sign_in(client, fake_stripe):
    response = client.get(URL)

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_the_page_lists_each_kind_of_gap(admin_client, fake_stripe, ledger):
    response = admin_client.get(f"{URL}?since={_since()}&lang=en")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = page_text(response)
    assert "Paid at the payment service, not in the ledger" in text
    assert "In the ledger, not paid at the payment service" in text
    assert "Amounts that differ" in text
    for name in ("lost_webhook", "no_attempt", "ghost", "canceled", "mismatch"):
        assert ledger[name] in html
    assert ledger["matched"] not in html
    assert "Waiting for the payment service" in text  # the lost webhook's attempt, labelled
    assert "processing" not in text  # never the raw status code
    assert "CN¥35.00" in text  # the ledger's amount of the mismatch
    assert 'data-testid="gap-count">5<' in html


def test_the_page_in_chinese(admin_client, fake_stripe, ledger):
    response = admin_client.get(f"{URL}?since={_since()}&lang=zh_CN")

    text = page_text(response)
    assert response.status_code == 200
    assert "对账" in text
    assert "支付服务已收款，账本中没有" in text
    assert "Paid at the payment service" not in text
    assert "¥200.00" in text


@pytest.mark.parametrize(("lang", "words"), [("en", "No payments through"), ("zh_CN", "没有")])
def test_empty_state_says_what_to_do(admin_client, fake_stripe, lang, words):
    response = admin_client.get(f"{URL}?lang={lang}")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-testid="empty-state"' in html
    assert words in page_text(response)
    (listed,) = fake_stripe.requests_to("GET", "/v1/payment_intents")  # default: 30 days back
    assert int(listed.params["created[gte]"]) < (datetime.now(UTC) - timedelta(days=29)).timestamp()


def test_a_clean_period_says_everything_matches(
    admin_client, fake_stripe, app, make_user, make_loan
):
    intent = fake_stripe.add_intent(amount=10_000)
    loan_id = make_loan(make_user().id)
    with app.app_context():
        record_payment(
            loan_id=loan_id,
            amount_minor=10_000,
            currency="CNY",
            method=PaymentMethod.CARD,
            received_at=datetime.now(UTC),
            external_reference=intent["id"],
        )
        db.session.commit()

    response = admin_client.get(f"{URL}?since={_since()}&lang=en")

    assert 'data-testid="all-matched"' in response.get_data(as_text=True)


@pytest.mark.parametrize("since", ["2026-02-30", "tomorrow", "2999-01-01", "1800-01-01"])
def test_a_bad_start_date_is_explained_and_stripe_not_asked(admin_client, fake_stripe, since):
    response = admin_client.get(f"{URL}?since={since}&lang=en")

    assert response.status_code == 422
    assert "YYYY-MM-DD" in page_text(response)
    assert 'data-testid="since-error"' in response.get_data(as_text=True)
    assert fake_stripe.requests == []


def test_stripe_unreachable_is_a_clear_message(admin_client, fake_stripe):
    fake_stripe.stop()

    response = admin_client.get(f"{URL}?lang=zh_CN")

    assert response.status_code == 503
    assert 'data-testid="unavailable"' in response.get_data(as_text=True)
    assert "支付服务" in page_text(response)
