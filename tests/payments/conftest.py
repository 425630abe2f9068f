"""Fixtures for payments: a local Stripe-compatible server the app talks to; a processor double
for refunds, booked payments, recorded effects, receipt templates and PDF reading; a loan in
collections, as the daily run leaves it, and a way to pay it the way the event processor does
(``record_payment`` then ``effects.after_booking``); for the borrower's payment journey a fixed
clock, a borrower with an overdue loan and a recording sandbox gateway."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest

from portal.collections.run import run_collections
from portal.domain import DomainError
from portal.extensions import db
from portal.loans.models import PaymentMethod
from portal.loans.services import record_payment
from portal.payments import effects
from portal.payments import gateway as gateways
from portal.payments.gateway import Intent, ProcessorRefund, ProcessorUnavailable
from portal.payments.gateway.sandbox import SandboxGateway
from portal.payments.models import AttemptStatus, PaymentAttempt, PayOption, Provider
from portal.timeutil import utcnow
from tests.messaging.conftest import install_defaults
from tests.payments.stripe_server import FakeStripe

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


@pytest.fixture
def ledger(app, fake_stripe, make_user, make_loan):
    """Stripe and the ledger with one payment of each kind; returns the ids by name."""
    borrower = make_user()
    loan_id = make_loan(borrower.id)
    now = utcnow()
    old = int((now - timedelta(days=5)).timestamp())
    ids = {
        "matched": fake_stripe.add_intent(amount=10_000)["id"],
        "lost_webhook": fake_stripe.add_intent(amount=20_000)["id"],
        "no_attempt": fake_stripe.add_intent(amount=5_000, metadata={"loan_id": str(loan_id)})[
            "id"
        ],
        "mismatch": fake_stripe.add_intent(amount=3_000)["id"],
        "canceled": fake_stripe.add_intent(amount=4_000, status="canceled")["id"],
        "paid_before_since": fake_stripe.add_intent(amount=6_000, created=old)["id"],
        "ghost": "pi_fake_never_at_stripe",
    }
    fake_stripe.add_intent(amount=7_000, status="requires_payment_method")  # not paid: ignored
    with app.app_context():
        booked = {
            "matched": 10_000,
            "mismatch": 3_500,
            "canceled": 4_000,
            "paid_before_since": 6_000,
            "ghost": 8_000,
        }
        for name, amount in booked.items():
            payment = record_payment(
                loan_id=loan_id,
                amount_minor=amount,
                currency="CNY",
                method=PaymentMethod.CARD,
                received_at=now,
                external_reference=ids[name],
                keep_surplus=True,
            )
            ids[f"{name}_payment"] = payment.id
        record_payment(  # a bank transfer: not the processor's, never reported
            loan_id=loan_id,
            amount_minor=1_000,
            currency="CNY",
            method=PaymentMethod.BANK_TRANSFER,
            received_at=now,
            external_reference="BANK-REF-1",
            keep_surplus=True,
        )
        attempt = PaymentAttempt(
            borrower_id=borrower.id,
            loan_id=loan_id,
            option=PayOption.OTHER,
            amount_minor=20_000,
            currency="CNY",
            provider=Provider.STRIPE,
            idempotency_key="attempt-lost",
            intent_id=ids["lost_webhook"],
            status=AttemptStatus.PROCESSING,
        )
        db.session.add(attempt)
        db.session.commit()
        ids["attempt"] = attempt.id
    ids["loan"] = loan_id
    return ids


# The standard loan: 300,000 over 6 months from Jan 15, due on the 15th from Feb to Jul.
# Installment 1: principal 50,000 + interest 6,000 + fee 3,000 = 59,000; then 55,000...
DISBURSED = date(2026, 1, 15)
FIRST_DUE = date(2026, 2, 15)
SECOND_DUE = date(2026, 3, 15)
FIRST_INSTALLMENT = 59_000
SECOND_INSTALLMENT = 55_000
LOAN_TOTAL = 300_000 + 3_000 + 6_000 + 5_000 + 4_000 + 3_000 + 2_000 + 1_000


def morning(day: date) -> datetime:
    """10:00 in Shanghai on ``day``: inside every rulebook's contact window."""
    return datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)


def pay(loan_id: int, amount: int, now: datetime, reference: str | None = None):
    """Book a processor payment and its effects in one transaction, as a webhook does."""
    payment = record_payment(
        loan_id=loan_id,
        amount_minor=amount,
        currency="CNY",
        method=PaymentMethod.CARD,
        received_at=now,
        external_reference=reference,
        keep_surplus=True,
    )
    result = effects.after_booking(payment, now=now)
    db.session.commit()
    return result


@pytest.fixture
def loan_in_collections(app, make_user, make_loan):
    """A loan whose first installment is 5 days late on 20 Feb: the run opened its case."""

    def factory(as_of: date = date(2026, 2, 20), locale: str = "en") -> tuple[int, int]:
        borrower = make_user(locale=locale)
        loan_id = make_loan(borrower.id, disbursed_on=DISBURSED)
        with app.app_context():
            run_collections(as_of, now=morning(as_of), contacts=False)
        return borrower.id, loan_id

    return factory


# 14:00 in Shanghai on 20 October 2026: a loan disbursed on 15 June has four installments
# overdue (15 July to 15 October) and the next one due on 15 November.
PAY_NOW = datetime(2026, 10, 20, 6, 0, tzinfo=UTC)
PAY_TODAY = date(2026, 10, 20)


@pytest.fixture
def frozen(monkeypatch):
    """The payment journey's routes see PAY_NOW as the current time."""
    from portal.payments import routes

    monkeypatch.setattr(routes, "utcnow", lambda: PAY_NOW)
    return PAY_NOW


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
    """A borrower and their loan with four installments overdue on PAY_TODAY: (account, loan id)."""
    borrower = make_user()
    return borrower, make_loan(borrower.id)


# The standard loan: 300,000 over 6 months from Jan 15, due on the 15th from Feb to Jul.
# Installment 1: principal 50,000 + interest 6,000 + fee 3,000 = 59,000; then 55,000...
DISBURSED = date(2026, 1, 15)
FIRST_DUE = date(2026, 2, 15)
SECOND_DUE = date(2026, 3, 15)
FIRST_INSTALLMENT = 59_000
SECOND_INSTALLMENT = 55_000
LOAN_TOTAL = 300_000 + 3_000 + 6_000 + 5_000 + 4_000 + 3_000 + 2_000 + 1_000
