"""POST /webhooks/stripe: only what Stripe signed, recently, is processed."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.loans.models import Payment
from portal.payments.models import ProcessorEvent
from tests.payments.events.conftest import dispute_event, intent_event, signed


def _stored(app):
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(ProcessorEvent)),
            db.session.scalar(select(func.count()).select_from(Payment)),
        )


def test_a_signed_success_books_the_payment(webhook_app, attempt):
    payload, headers = signed(intent_event(attempt))
    response = webhook_app.test_client().post("/webhooks/stripe", data=payload, headers=headers)
    assert response.status_code == 200
    assert response.json == {"received": True, "outcome": "booked"}
    assert _stored(webhook_app) == (1, 1)


def test_a_redelivery_answers_200_and_books_nothing_more(webhook_app, attempt):
    payload, headers = signed(intent_event(attempt))
    client = webhook_app.test_client()
    client.post("/webhooks/stripe", data=payload, headers=headers)
    again = client.post("/webhooks/stripe", data=payload, headers=headers)
    assert (again.status_code, again.json["outcome"]) == (200, "duplicate")
    assert _stored(webhook_app) == (1, 1)


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda p, h: (p, {}), id="missing signature"),
        pytest.param(lambda p, h: (p + b" ", h), id="payload changed"),
        pytest.param(
            lambda p, h: (p, {"Stripe-Signature": h["Stripe-Signature"][:-4] + "0000"}),
            id="wrong signature",
        ),
        pytest.param(
            lambda p, h: signed(__import__("json").loads(p), secret="whsec_other"),
            id="other secret",
        ),
        pytest.param(
            lambda p, h: signed(__import__("json").loads(p), timestamp=int(time.time()) - 600),
            id="expired",
        ),
        pytest.param(lambda p, h: (p, {"Stripe-Signature": "garbage"}), id="garbled header"),
    ],
)
def test_an_unverified_request_is_400_and_stores_nothing(webhook_app, attempt, tamper):
    payload, headers = tamper(*signed(intent_event(attempt)))
    response = webhook_app.test_client().post("/webhooks/stripe", data=payload, headers=headers)
    assert response.status_code == 400
    assert _stored(webhook_app) == (0, 0)


def test_without_a_configured_secret_nothing_is_accepted(app, attempt):
    app.config["STRIPE_WEBHOOK_SECRET"] = ""
    payload, headers = signed(intent_event(attempt))
    assert (
        app.test_client().post("/webhooks/stripe", data=payload, headers=headers).status_code == 400
    )
    assert _stored(app) == (0, 0)


def test_signed_but_not_an_event_is_400(webhook_app, attempt):
    for body in ({"id": "evt_x"}, ["not", "an", "object"]):
        payload, headers = signed(body)
        response = webhook_app.test_client().post("/webhooks/stripe", data=payload, headers=headers)
        assert response.status_code == 400
    assert _stored(webhook_app) == (0, 0)


def test_an_event_that_cannot_be_processed_yet_asks_for_redelivery(webhook_app, attempt):
    payload, headers = signed(dispute_event(attempt))
    response = webhook_app.test_client().post("/webhooks/stripe", data=payload, headers=headers)
    assert response.status_code == 409
    assert _stored(webhook_app) == (0, 0)


def test_no_csrf_token_or_session_is_needed_but_get_is_not_allowed(webhook_app):
    assert webhook_app.test_client().get("/webhooks/stripe").status_code == 405
