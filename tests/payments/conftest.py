"""Fixtures for payments: a local Stripe-compatible server the app talks to."""

from __future__ import annotations

import pytest

from tests.payments.stripe_server import FakeStripe


@pytest.fixture
def fake_stripe(app):
    """A Stripe-compatible server on a free port, with the app configured to use it (keys,
    ``STRIPE_API_BASE``, short timeouts, no retries). See ``tests/payments/stripe_server.py``:
    ``requests``/``requests_to(method, path)``, ``add_intent``, ``succeed``, ``slow``,
    ``fail_with``, ``stop``, ``event`` and ``signed(event, timestamp=, secret=)``."""
    server = FakeStripe()
    app.config.update(
        STRIPE_SECRET_KEY=server.secret_key,
        STRIPE_PUBLISHABLE_KEY=server.publishable_key,
        STRIPE_WEBHOOK_SECRET=server.webhook_secret,
        STRIPE_API_BASE=server.base,
        STRIPE_CONNECT_TIMEOUT_SECONDS=0.5,
        STRIPE_TIMEOUT_SECONDS=0.5,
        STRIPE_MAX_NETWORK_RETRIES=0,
    )
    yield server
    server.stop()
