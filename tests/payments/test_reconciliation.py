"""Reconciliation: the processor's succeeded payments against the ledger, service and CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from portal.extensions import db
from portal.loans.models import PaymentMethod
from portal.loans.services import record_payment
from portal.payments.gateway import ProcessorUnavailable
from portal.payments.gateway.stripe import StripeGateway
from portal.payments.models import AttemptStatus, PaymentAttempt, PayOption, Provider
from portal.payments.reconciliation import InvalidSince, parse_since, reconcile
from portal.timeutil import utcnow

SINCE = datetime.now(UTC) - timedelta(days=1)


def test_reconciliation_finds_both_kinds_of_gap_and_mismatches(app_ctx, ledger):
    """Paid but not booked; booked but not paid; booked with another amount."""
    report = reconcile(StripeGateway.from_config(), SINCE)

    lost, no_attempt = sorted(report.processor_only, key=lambda e: e.amount_minor, reverse=True)
    assert (lost.intent_id, lost.amount_minor, lost.currency) == (
        ledger["lost_webhook"],
        20_000,
        "CNY",
    )
    assert (lost.attempt_id, lost.attempt_status, lost.loan_id) == (
        ledger["attempt"],
        "processing",
        ledger["loan"],
    )
    assert (no_attempt.intent_id, no_attempt.loan_id) == (ledger["no_attempt"], ledger["loan"])
    assert {(e.intent_id, e.payment_id, e.amount_minor) for e in report.ledger_only} == {
        (ledger["ghost"], ledger["ghost_payment"], 8_000),
        (ledger["canceled"], ledger["canceled_payment"], 4_000),
    }
    (mismatch,) = report.mismatches
    assert (mismatch.intent_id, mismatch.payment_id) == (
        ledger["mismatch"],
        ledger["mismatch_payment"],
    )
    assert (mismatch.processor_amount_minor, mismatch.ledger_amount_minor) == (3_000, 3_500)
    assert (report.processor_count, report.matched) == (4, 1)
    assert report.ledger_count == 5
    assert not report.clean


def test_a_reconciled_period_is_clean(app_ctx, fake_stripe, make_user, make_loan):
    borrower = make_user()
    loan_id = make_loan(borrower.id)
    intent = fake_stripe.add_intent(amount=10_000)
    record_payment(
        loan_id=loan_id,
        amount_minor=10_000,
        currency="CNY",
        method=PaymentMethod.CARD,
        received_at=utcnow(),
        external_reference=intent["id"],
    )

    report = reconcile(StripeGateway.from_config(), SINCE)

    assert report.clean
    assert (report.processor_count, report.ledger_count, report.matched) == (1, 1, 1)


def test_reconciliation_counts_progress_and_stops_when_stripe_fails(app_ctx, fake_stripe):
    for amount in range(1, 4):
        fake_stripe.add_intent(amount=amount * 100)
    seen: list[int] = []

    reconcile(StripeGateway.from_config(), SINCE, progress=seen.append)
    assert sum(seen) == 3

    fake_stripe.fail_with(500)
    with pytest.raises(ProcessorUnavailable):
        reconcile(StripeGateway.from_config(), SINCE)


@pytest.mark.parametrize("text", ["", "2026-13-01", "yesterday", "2026-1-5", "1899-12-31"])
def test_since_must_be_a_date(text):
    with pytest.raises(InvalidSince):
        parse_since(text, today=datetime(2026, 12, 1).date())


def test_since_cannot_be_after_today():
    today = datetime(2026, 12, 1).date()
    assert parse_since("2026-12-01", today=today) == today
    with pytest.raises(InvalidSince):
        parse_since("2026-12-02", today=today)


def _since_arg() -> str:
    return (datetime.now(UTC) - timedelta(days=2)).date().isoformat()


def test_cli_prints_a_table_progress_and_a_json_line(app, ledger):
    """stdout: summary, table, JSON last; stderr: progress; exit 1 when there is work to do."""
    result = app.test_cli_runner().invoke(args=["payments", "reconcile", "--since", _since_arg()])

    assert result.exit_code == 1, result.output
    lines = result.stdout.strip().splitlines()
    report = json.loads(lines[-1])
    assert report["clean"] is False
    assert {e["intent_id"] for e in report["processor_only"]} == {
        ledger["lost_webhook"],
        ledger["no_attempt"],
    }
    assert {e["intent_id"] for e in report["ledger_only"]} == {ledger["ghost"], ledger["canceled"]}
    assert report["mismatches"][0]["ledger_amount_minor"] == 3_500
    table = "\n".join(lines[:-1])
    assert "Kind" in table
    assert "not in ledger" in table
    assert "not at processor" in table
    assert "amount differs" in table
    assert "CN¥200.00" in table  # the lost webhook's amount, formatted
    assert ledger["ghost"] in table
    assert "Reading the processor's payments" in result.stderr
    assert "Read 4 processor payments" in result.stderr
    assert "{" not in result.stderr


def test_cli_on_a_clean_period_exits_0(app, fake_stripe):
    result = app.test_cli_runner().invoke(args=["payments", "reconcile", "--since", _since_arg()])

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1])["clean"] is True


@pytest.mark.parametrize("since", ["2026-02-30", "soon", "2999-01-01"])
def test_cli_refuses_a_bad_since(app, fake_stripe, since):
    result = app.test_cli_runner().invoke(args=["payments", "reconcile", "--since", since])

    assert result.exit_code == 2
    assert "--since" in result.stderr
    assert "YYYY-MM-DD" in result.stderr
    assert fake_stripe.requests == []


def test_cli_reports_stripe_unreachable(app, fake_stripe):
    fake_stripe.stop()

    result = app.test_cli_runner().invoke(args=["payments", "reconcile", "--since", _since_arg()])

    assert result.exit_code == 2
    assert "支付服务" in result.stderr  # the message, in DEFAULT_LOCALE (zh_CN in tests)
    assert result.stdout == ""


def test_the_sandboxs_payments_are_not_stripes(app_ctx, fake_stripe, make_user, make_loan):
    """A payment taken in the sandbox (before the keys were set) is not a Stripe gap."""
    borrower = make_user()
    loan_id = make_loan(borrower.id)
    db.session.add(
        PaymentAttempt(
            borrower_id=borrower.id,
            loan_id=loan_id,
            option=PayOption.OTHER,
            amount_minor=2_000,
            currency="CNY",
            provider=Provider.SANDBOX,
            idempotency_key="sandbox-attempt",
            intent_id="pi_sandbox_0123",
            status=AttemptStatus.SUCCEEDED,
        )
    )
    record_payment(
        loan_id=loan_id,
        amount_minor=2_000,
        currency="CNY",
        method=PaymentMethod.CARD,
        received_at=utcnow(),
        external_reference="pi_sandbox_0123",
    )

    report = reconcile(StripeGateway.from_config(), SINCE)

    assert report.clean
    assert report.ledger_count == 0
    assert fake_stripe.requests_to("GET", "/v1/payment_intents/") == []
