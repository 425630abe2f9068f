"""Payment journey fixtures: a fixed clock, a borrower with an overdue loan, a recording gateway."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pytest

from portal.payments.gateway import Intent, ProcessorUnavailable
from portal.payments.gateway.sandbox import SandboxGateway

# 14:00 in Shanghai on 20 October 2026: a loan disbursed on 15 June has four installments
# overdue (15 July to 15 October) and the next one due on 15 November.
NOW = datetime(2026, 10, 20, 6, 0, tzinfo=UTC)
TODAY = date(2026, 10, 20)


@pytest.fixture
def frozen(monkeypatch):
    """The payment routes see NOW as the current time."""
    from portal.payments import routes

    monkeypatch.setattr(routes, "utcnow", lambda: NOW)
    return NOW


@dataclass
class RecordingGateway(SandboxGateway):
    """The sandbox, recording each create call; ``fail`` makes the processor unreachable."""

    calls: list[dict] = field(default_factory=list)
    fail: bool = False

    def create_intent(
        self,
        *,
        amount_minor: int,
        currency: str,
        idempotency_key: str,
        metadata: Mapping[str, str],
        description: str,
    ) -> Intent:
        self.calls.append(
            {
                "amount_minor": amount_minor,
                "currency": currency,
                "idempotency_key": idempotency_key,
                "metadata": dict(metadata),
            }
        )
        if self.fail:
            raise ProcessorUnavailable(context="timed out")
        return super().create_intent(
            amount_minor=amount_minor,
            currency=currency,
            idempotency_key=idempotency_key,
            metadata=metadata,
            description=description,
        )


@pytest.fixture
def gateway(monkeypatch) -> RecordingGateway:
    recording = RecordingGateway()
    from portal.payments import services

    monkeypatch.setattr(services, "payment_gateway", lambda: recording)
    return recording


@pytest.fixture
def overdue_loan(make_user, make_loan):
    """A borrower and their loan with four installments overdue on TODAY: (account, loan id)."""
    borrower = make_user()
    return borrower, make_loan(borrower.id)
