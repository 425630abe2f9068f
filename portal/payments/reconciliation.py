"""Reconciliation: the processor's succeeded payments against the ledger, both ways.

Three kinds of difference, each a list in the report:

- ``processor_only``: the processor took the money but the ledger has no payment for the intent
  (a webhook lost or refused; the borrower paid and is still shown overdue).
- ``ledger_only``: the ledger books a processor payment the processor does not show as succeeded
  (booked by mistake, or refunded/disputed out of band).
- ``mismatches``: both sides have it, with another amount or currency.

Read only: nothing is booked or changed (staff act on what the report shows).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, or_, select

from portal.converters import id_or_none
from portal.domain import DomainError
from portal.extensions import db
from portal.forms import EARLIEST_YEAR
from portal.loans.models import Payment
from portal.payments.gateway import (
    PaymentGateway,
    ProcessorPayment,
    ProcessorRefused,
)
from portal.payments.models import PaymentAttempt, Provider

STRIPE_INTENT_PREFIX = "pi_"  # a ledger reference that is a Stripe PaymentIntent id


class InvalidSince(DomainError):
    status_code = 422
    message = _l("Give the start date as YYYY-MM-DD, not after today (for example 2026-11-01).")


@dataclass(frozen=True)
class Entry:
    """One payment on one side (or both): what staff need to find and fix it."""

    intent_id: str
    amount_minor: int
    currency: str
    at: datetime  # the processor's creation time, or the ledger's received_at
    loan_id: int | None = None
    payment_id: int | None = None
    attempt_id: int | None = None
    attempt_status: str | None = None


@dataclass(frozen=True)
class Mismatch:
    intent_id: str
    payment_id: int
    loan_id: int
    processor_amount_minor: int
    processor_currency: str
    ledger_amount_minor: int
    ledger_currency: str


@dataclass(frozen=True)
class ReconciliationReport:
    since: datetime
    provider: str
    processor_count: int
    ledger_count: int
    matched: int
    processor_only: list[Entry] = field(default_factory=list)
    ledger_only: list[Entry] = field(default_factory=list)
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.processor_only or self.ledger_only or self.mismatches)

    def as_dict(self) -> dict:
        """JSON-ready: times as ISO 8601, amounts in minor units."""
        result = asdict(self)
        result["since"] = self.since.isoformat()
        result["clean"] = self.clean
        for side in ("processor_only", "ledger_only"):
            for row in result[side]:
                row["at"] = row["at"].isoformat()
        return result


def parse_since(text: str | None, *, today: date) -> date:
    """``YYYY-MM-DD`` from a command line or a query string; InvalidSince if it is not a date,
    is before 1900 or after ``today``."""
    try:
        day = date.fromisoformat((text or "").strip())
    except ValueError as error:
        raise InvalidSince() from error
    if len((text or "").strip()) != 10 or not EARLIEST_YEAR <= day.year or day > today:
        raise InvalidSince()
    return day


def start_of_day(day: date, timezone: str) -> datetime:
    """Midnight of ``day`` in ``timezone``, as an aware datetime (compare with UTC times)."""
    return datetime.combine(day, datetime.min.time(), tzinfo=ZoneInfo(timezone))


def reconcile(
    gateway: PaymentGateway,
    since: datetime,
    *,
    progress: Callable[[int], None] | None = None,
) -> ReconciliationReport:
    """Compare the processor's succeeded payments created since ``since`` with the ledger's
    processor payments received since then. ``progress(n)`` is called as processor payments
    are read (page after page). Raises ProcessorUnavailable if the processor cannot be read."""
    since = since.astimezone(UTC)
    processor: dict[str, ProcessorPayment] = {}
    for listed in gateway.succeeded_payments(since):
        processor[listed.intent_id] = listed
        if progress is not None:
            progress(1)
    booked = _booked_payments(gateway.provider, since, processor)
    attempts = _attempts(list(processor))
    processor_only, mismatches = [], []
    for intent_id, paid in processor.items():
        payment = booked.get(intent_id)
        if payment is None:
            processor_only.append(_processor_entry(paid, attempts.get(intent_id)))
        elif (payment.amount_minor, payment.currency) != (paid.amount_minor, paid.currency):
            mismatches.append(_mismatch(paid, payment))
    unmatched = [p for ref, p in booked.items() if ref not in processor and p.received_at >= since]
    ledger_only = _not_succeeded_on_processor(gateway, unmatched, mismatches)
    return ReconciliationReport(
        since=since,
        provider=gateway.provider.value,
        processor_count=len(processor),
        ledger_count=sum(1 for p in booked.values() if p.received_at >= since),
        matched=len(processor) - len(processor_only) - len(mismatches),
        processor_only=sorted(processor_only, key=lambda e: (e.at, e.intent_id)),
        ledger_only=sorted(ledger_only, key=lambda e: (e.at, e.intent_id)),
        mismatches=mismatches,
    )


def _booked_payments(
    provider: Provider, since: datetime, processor: dict[str, ProcessorPayment]
) -> dict[str, Payment]:
    """The ledger's processor payments: received since ``since``, or for any intent the
    processor listed (booked whenever). A processor payment is one whose reference is an
    attempt's intent (or, for Stripe, a PaymentIntent id)."""
    of_provider = select(PaymentAttempt.intent_id).where(PaymentAttempt.provider == provider)
    from_processor: list[ColumnElement[bool]] = [Payment.external_reference.in_(of_provider)]
    if provider == Provider.STRIPE:
        # Not those of another processor (the sandbox's ids look like Stripe's too).
        of_others = select(PaymentAttempt.intent_id).where(
            PaymentAttempt.provider != provider, PaymentAttempt.intent_id.is_not(None)
        )
        from_processor.append(
            Payment.external_reference.startswith(STRIPE_INTENT_PREFIX)
            & Payment.external_reference.not_in(of_others)
        )
    rows: list[Payment] = []
    recent = select(Payment).where(Payment.received_at >= since, or_(*from_processor))
    rows.extend(db.session.scalars(recent))
    ids = list(processor)
    for start in range(0, len(ids), 500):  # bounded IN lists
        chunk = select(Payment).where(Payment.external_reference.in_(ids[start : start + 500]))
        rows.extend(db.session.scalars(chunk))
    return {p.external_reference: p for p in rows if p.external_reference}


def _attempts(intent_ids: list[str]) -> dict[str, PaymentAttempt]:
    found: dict[str, PaymentAttempt] = {}
    for start in range(0, len(intent_ids), 500):
        chunk = intent_ids[start : start + 500]
        query = select(PaymentAttempt).where(PaymentAttempt.intent_id.in_(chunk))
        found.update((a.intent_id, a) for a in db.session.scalars(query) if a.intent_id)
    return found


def _processor_entry(paid: ProcessorPayment, attempt: PaymentAttempt | None) -> Entry:
    """A processor payment with no booking; with its attempt, or the ids its metadata gives."""
    entry = Entry(
        intent_id=paid.intent_id,
        amount_minor=paid.amount_minor,
        currency=paid.currency,
        at=paid.created,
        loan_id=id_or_none(paid.metadata.get("loan_id")),
        attempt_id=id_or_none(paid.metadata.get("attempt_id")),
    )
    if attempt is None:
        return entry
    return replace(
        entry, loan_id=attempt.loan_id, attempt_id=attempt.id, attempt_status=attempt.status.value
    )


def _mismatch(paid: ProcessorPayment, payment: Payment) -> Mismatch:
    return Mismatch(
        intent_id=paid.intent_id,
        payment_id=payment.id,
        loan_id=payment.loan_id,
        processor_amount_minor=paid.amount_minor,
        processor_currency=paid.currency,
        ledger_amount_minor=payment.amount_minor,
        ledger_currency=payment.currency,
    )


def _not_succeeded_on_processor(
    gateway: PaymentGateway, candidates: Iterable[Payment], mismatches: list[Mismatch]
) -> list[Entry]:
    """Ledger payments the list did not show: asked one by one, since an intent created before
    ``since`` and paid after it is booked in the period but not listed. Those that did succeed
    are compared like the others (a differing amount is a mismatch)."""
    missing = []
    for payment in candidates:
        reference = payment.external_reference or ""
        try:
            intent = gateway.retrieve_intent(reference)
        except (ProcessorRefused, LookupError):  # the processor does not know this intent
            intent = None
        if intent is not None and intent.status == "succeeded":
            if (intent.amount_minor, intent.currency) != (payment.amount_minor, payment.currency):
                paid = ProcessorPayment(
                    reference, intent.amount_minor, intent.currency, payment.received_at, {}
                )
                mismatches.append(_mismatch(paid, payment))
            continue
        missing.append(
            Entry(
                intent_id=reference,
                amount_minor=payment.amount_minor,
                currency=payment.currency,
                at=payment.received_at,
                loan_id=payment.loan_id,
                payment_id=payment.id,
            )
        )
    return missing


def default_since(today: date) -> date:
    """The staff page's start date when none is given: the last 30 days."""
    return today - timedelta(days=30)
