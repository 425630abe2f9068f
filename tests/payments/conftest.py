"""Payments test helpers: a processor double for refunds, booked payments, recorded effects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from portal.domain import DomainError
from portal.extensions import db
from portal.loans.models import PaymentMethod
from portal.loans.services import record_payment
from portal.payments import effects
from portal.payments import gateway as gateways
from portal.payments.gateway import ProcessorRefund, ProcessorUnavailable
from tests.messaging.conftest import install_defaults

PAID_AT = datetime(2026, 7, 10, 4, 30, tzinfo=UTC)  # 12:30 in Shanghai, before the first due date
NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


class ProcessorRefused(DomainError):
    status_code = 502


@dataclass
class RefundingProcessor:
    """Answers ``create_refund`` as told (succeeded, pending, failed, unreachable, refused) and
    keeps each call, as a processor's log would."""

    mode: str = "succeeded"
    calls: list[dict] = field(default_factory=list)

    def create_refund(self, *, intent_id, amount_minor, idempotency_key, reason):
        self.calls.append(
            {
                "intent_id": intent_id,
                "amount_minor": amount_minor,
                "idempotency_key": idempotency_key,
                "reason": reason,
            }
        )
        if self.mode == "unreachable":
            raise ProcessorUnavailable()
        if self.mode == "refused":
            raise ProcessorRefused()
        return ProcessorRefund(
            id=f"re_{len(self.calls):04d}",
            status=self.mode,
            amount_minor=amount_minor,
            currency="CNY",
        )


@pytest.fixture
def processor(monkeypatch) -> RefundingProcessor:
    """The processor every refund goes to (``payment_gateway()`` answers with it)."""
    double = RefundingProcessor()
    monkeypatch.setattr(gateways, "payment_gateway", lambda: double, raising=False)
    return double


@pytest.fixture
def reversals(monkeypatch) -> list[tuple[int, datetime]]:
    """The (loan id, now) of each ``effects.after_reversal`` call."""
    calls: list[tuple[int, datetime]] = []
    monkeypatch.setattr(
        effects, "after_reversal", lambda loan_id, *, now: calls.append((loan_id, now))
    )
    return calls


@pytest.fixture
def book(app):
    """Book a processor payment on a loan and commit; returns the payment id."""
    counter = iter(range(1, 10_000))

    def factory(
        loan_id: int, amount_minor: int, *, reference: str | None = "auto", **kwargs
    ) -> int:
        with app.app_context():
            payment = record_payment(
                loan_id=loan_id,
                amount_minor=amount_minor,
                currency=kwargs.pop("currency", "CNY"),
                method=kwargs.pop("method", PaymentMethod.CARD),
                received_at=kwargs.pop("received_at", PAID_AT),
                external_reference=(
                    f"pi_test{next(counter):06d}abcdef" if reference == "auto" else reference
                ),
                keep_surplus=True,
                **kwargs,
            )
            db.session.commit()
            return payment.id

    return factory


def install_receipt_templates(locale: str) -> None:
    """The default payment_receipt texts for ``locale``."""
    install_defaults(("payment_receipt",), locale, NOW)


def pdf_text_and_fonts(pdf: bytes, tmp_path) -> tuple[str, str]:
    """The text and the font list of a PDF, with poppler's pdftotext and pdffonts."""
    import shutil
    import subprocess

    pdftotext, pdffonts = shutil.which("pdftotext"), shutil.which("pdffonts")
    if not (pdftotext and pdffonts):
        pytest.skip("poppler-utils (pdftotext, pdffonts) is not installed")
    path = tmp_path / "receipt.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(  # noqa: S603 - a fixed tool on our own file
        [pdftotext, "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    fonts = subprocess.run(  # noqa: S603
        [pdffonts, str(path)], capture_output=True, check=True, text=True
    ).stdout
    return text, fonts
