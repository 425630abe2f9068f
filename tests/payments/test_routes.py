"""The pay page, checkout, processing and status routes: flows, errors and who reaches what."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from portal.auth.models import Role
from portal.extensions import db
from portal.payments.models import (
    AttemptStatus,
    IssueKind,
    PaymentAttempt,
    PaymentIssue,
    Provider,
)
from tests.conftest import CSRF_PATTERN, login

NOW_FOR_PAGES = datetime(2026, 10, 1, tzinfo=UTC)
FIXED = {"shown_overdue": "221000", "shown_next_installment": "273000", "shown_payoff": "323000"}


@pytest.fixture
def borrower(client, overdue_loan, frozen, gateway):
    """The signed-in borrower of the overdue loan: (client, loan id)."""
    account, loan_id = overdue_loan
    login(client, account)
    client.account = account  # type: ignore[attr-defined]
    return client, loan_id


def _token(client, path) -> str:
    match = CSRF_PATTERN.search(client.get(path).get_data(as_text=True))
    assert match, path
    return match.group(1)


def _post_pay(client, loan_id, **fields):
    data = {"csrf_token": _token(client, f"/loans/{loan_id}/pay"), **FIXED, **fields}
    return client.post(f"/loans/{loan_id}/pay", data=data)


def _attempts(app) -> list[PaymentAttempt]:
    with app.app_context():
        return list(db.session.scalars(select(PaymentAttempt)))


def test_pay_page_shows_options_amounts_and_allocation(borrower):
    client, loan_id = borrower
    html = client.get(f"/loans/{loan_id}/pay?lang=en").get_data(as_text=True)
    for option in ("overdue", "next_installment", "other", "payoff"):
        assert f'data-testid="option-{option}"' in html
    assert re.search(r'data-testid="amount-overdue">CN¥2,210.00<', html)
    assert "Installment 1, due" in html
    assert "How this payment is allocated" in html


def test_pay_page_in_chinese(borrower):
    client, loan_id = borrower
    html = client.get(f"/loans/{loan_id}/pay?lang=zh_CN").get_data(as_text=True)
    assert "支付逾期金额" in html
    assert "¥2,210.00" in html
    assert "第 1 期" in html


def test_paying_the_overdue_goes_to_the_sandbox_checkout_and_twice_is_one_attempt(app, borrower):
    """Two submissions of the same choice lead to the same attempt's checkout."""
    client, loan_id = borrower
    first = _post_pay(client, loan_id, option="overdue", action="pay")
    second = _post_pay(client, loan_id, option="overdue", action="pay")
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    [attempt] = _attempts(app)
    assert first.headers["Location"].endswith(f"/payments/{attempt.id}")
    page = client.get(first.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert 'data-testid="sandbox-banner"' in page
    assert "not Stripe" in page
    assert "js.stripe.com" not in page


def test_another_amount_is_previewed_before_it_is_paid(app, borrower):
    """The first "continue" shows the allocation; confirming that amount starts the attempt."""
    client, loan_id = borrower
    shown = _post_pay(client, loan_id, option="other", other_amount="600", action="pay")
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200
    assert 'data-testid="allocation"' in html
    assert 'name="previewed" type="hidden" value="60000"' in html
    assert _attempts(app) == []
    paid = _post_pay(
        client, loan_id, option="other", other_amount="600", previewed="60000", action="pay"
    )
    assert paid.status_code == 303
    assert [a.amount_minor for a in _attempts(app)] == [60_000]


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "more than zero"),
        ("-1", "more than zero"),
        ("3230.01", "more than you owe"),
        ("1.234", "decimal places"),
        ("USD 5", "repaid in CNY"),
        ("abc", "such as 100.00"),
    ],
)
def test_hostile_other_amounts_are_refused_on_the_field(app, borrower, amount, message):
    client, loan_id = borrower
    client.get("/?lang=en")
    response = _post_pay(client, loan_id, option="other", other_amount=amount, action="pay")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _attempts(app) == []


def test_a_stale_amount_is_refused_with_the_fresh_page(app, borrower):
    client, loan_id = borrower
    client.get("/?lang=en")
    response = _post_pay(client, loan_id, option="overdue", action="pay", shown_overdue="1")
    assert response.status_code == 409
    assert "has changed since the page was opened" in response.get_data(as_text=True)
    assert _attempts(app) == []


def test_processor_down_shows_a_clear_message_and_alerts_staff(app, borrower, gateway):
    client, loan_id = borrower
    gateway.fail = True
    client.get("/?lang=en")
    response = _post_pay(client, loan_id, option="overdue", action="pay")
    assert response.status_code == 503
    assert "could not reach the payment service" in response.get_data(as_text=True)
    assert _attempts(app) == []
    with app.app_context():
        kinds = db.session.scalars(select(PaymentIssue.kind)).all()
    assert kinds == [IssueKind.PROCESSOR_UNREACHABLE]


def test_processing_page_and_status_follow_the_attempt(app, borrower):
    client, loan_id = borrower
    location = _post_pay(client, loan_id, option="overdue", action="pay").headers["Location"]
    attempt_id = int(location.rsplit("/", 1)[1])
    status = client.get(f"/payments/{attempt_id}/status?lang=en").get_json()
    assert status["state"] == "waiting"
    with app.app_context():
        attempt = db.session.get(PaymentAttempt, attempt_id)
        attempt.status, attempt.failure_code = AttemptStatus.PROCESSING, "insufficient_funds"
        db.session.commit()
    status = client.get(f"/payments/{attempt_id}/status").get_json()
    assert status["state"] == "declined"
    assert "insufficient funds" in status["message"]
    assert status["retry_url"] == f"/payments/{attempt_id}"
    page = client.get(f"/payments/{attempt_id}/processing").get_data(as_text=True)
    assert "Your card has insufficient funds" in page
    assert "payment_status.js" in page
    assert "<script>" not in page  # no inline script
    with app.app_context():
        attempt = db.session.get(PaymentAttempt, attempt_id)
        attempt.status, attempt.failure_code = AttemptStatus.SUCCEEDED, None
        db.session.commit()
    status = client.get(f"/payments/{attempt_id}/status").get_json()
    assert status["state"] == "paid"
    assert status["receipt_url"]
    # A paid attempt's checkout leads to its status, never to paying again.
    assert client.get(f"/payments/{attempt_id}").headers["Location"].endswith("/processing")


def test_stripe_checkout_uses_the_payment_element(app, borrower):
    """A Stripe attempt gets Stripe.js and the Payment Element; the sandbox refuses it."""
    client, loan_id = borrower
    location = _post_pay(client, loan_id, option="overdue", action="pay").headers["Location"]
    attempt_id = int(location.rsplit("/", 1)[1])
    with app.app_context():
        attempt = db.session.get(PaymentAttempt, attempt_id)
        attempt.provider = Provider.STRIPE
        db.session.commit()
        secret = attempt.client_secret
    app.config.update(STRIPE_SECRET_KEY="sk_test_x", STRIPE_PUBLISHABLE_KEY="pk_test_y")
    html = client.get(location).get_data(as_text=True)
    assert '<script src="https://js.stripe.com/v3/"></script>' in html
    assert 'data-publishable-key="pk_test_y"' in html
    assert f'data-client-secret="{secret}"' in html
    assert f"/payments/{attempt_id}/processing" in html
    token = _token(client, f"/loans/{loan_id}/pay")
    card = {"csrf_token": token, "card_number": "4242424242424242", "expiry": "12/34", "cvc": "123"}
    assert client.post(f"/payments/{attempt_id}/sandbox", data=card).status_code == 404
    confirmed = client.post(f"/payments/{attempt_id}/confirming", headers={"X-CSRFToken": token})
    assert confirmed.get_json() == {"status": "processing"}


def test_every_route_is_404_for_another_borrower(app, borrower, make_user):
    """Another borrower's loan and attempt: not found on every route, GET and POST."""
    client, loan_id = borrower
    location = _post_pay(client, loan_id, option="overdue", action="pay").headers["Location"]
    attempt_id = int(location.rsplit("/", 1)[1])
    client.post("/logout", data={"csrf_token": _token(client, "/")})
    stranger = make_user()
    login(client, stranger)
    token = _token(client, "/")
    for path in (
        f"/loans/{loan_id}/pay",
        f"/payments/{attempt_id}",
        f"/payments/{attempt_id}/processing",
        f"/payments/{attempt_id}/status",
    ):
        assert client.get(path).status_code == 404, path
    for path in (
        f"/loans/{loan_id}/pay",
        f"/payments/{attempt_id}/sandbox",
        f"/payments/{attempt_id}/confirming",
    ):
        data = {"csrf_token": token, **FIXED, "option": "overdue", "action": "pay"}
        data |= {"card_number": "4242424242424242", "expiry": "12/34", "cvc": "123"}
        response = client.post(path, data=data, headers={"X-CSRFToken": token})
        assert response.status_code == 404, path
    [attempt] = _attempts(app)
    assert attempt.status is AttemptStatus.OPEN


def test_staff_cannot_use_the_borrower_pay_page(app, client, overdue_loan, make_user):
    _account, loan_id = overdue_loan
    login(client, make_user(Role.AGENT))
    assert client.get(f"/loans/{loan_id}/pay").status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PaymentAttempt)) == 0


def _checkout(app, client, loan_id, option="overdue") -> int:
    location = _post_pay(client, loan_id, option=option, action="pay").headers["Location"]
    return int(location.rsplit("/", 1)[1])


def _sandbox(client, attempt_id, number, **extra):
    token = _token(client, "/")
    data = {"csrf_token": token, "card_number": number, "expiry": "12/34", "cvc": "123", **extra}
    return client.post(f"/payments/{attempt_id}/sandbox", data=data)


def _payments_of(app, loan_id) -> list[int]:
    from portal.loans.models import Payment

    with app.app_context():
        return list(
            db.session.scalars(select(Payment.amount_minor).where(Payment.loan_id == loan_id))
        )


def test_sandbox_4242_books_the_payment_through_the_event_processing(app, borrower):
    """The test card that succeeds: a payment_intent.succeeded event books it, once."""
    from portal.payments.models import ProcessorEvent

    client, loan_id = borrower
    attempt_id = _checkout(app, client, loan_id)
    response = _sandbox(client, attempt_id, "4242 4242 4242 4242")
    assert response.headers["Location"].endswith(f"/payments/{attempt_id}/processing")
    assert _payments_of(app, loan_id) == [221_000]
    with app.app_context():
        attempt = db.session.get(PaymentAttempt, attempt_id)
        assert attempt.status is AttemptStatus.SUCCEEDED
        [event] = db.session.scalars(select(ProcessorEvent)).all()
        assert (event.provider, event.type) == (Provider.SANDBOX, "payment_intent.succeeded")
    status = client.get(f"/payments/{attempt_id}/status").get_json()
    assert status["state"] == "paid"
    with app.app_context():
        payment_id = db.session.get(PaymentAttempt, attempt_id).payment_id
    receipt = client.get(status["receipt_url"])
    assert receipt.status_code == 200
    assert status["receipt_url"].endswith(f"/{payment_id}")
    # Paying the paid attempt again (a second tab) books nothing more.
    _sandbox(client, attempt_id, "4242 4242 4242 4242")
    assert _payments_of(app, loan_id) == [221_000]


@pytest.mark.parametrize(
    ("number", "code", "en", "zh"),
    [
        ("4000 0000 0000 0002", "generic_decline", "Your card was declined", "您的卡被拒绝"),
        ("4000 0000 0000 9995", "insufficient_funds", "insufficient funds", "余额不足"),
    ],
)
def test_sandbox_declines_book_nothing_and_say_why_in_both_languages(
    app, borrower, number, code, en, zh
):
    client, loan_id = borrower
    attempt_id = _checkout(app, client, loan_id)
    _sandbox(client, attempt_id, number)
    assert _payments_of(app, loan_id) == []
    with app.app_context():
        attempt = db.session.get(PaymentAttempt, attempt_id)
        assert (attempt.status, attempt.failure_code) == (AttemptStatus.OPEN, code)
    client.get("/?lang=en")
    assert en in client.get(f"/payments/{attempt_id}/processing").get_data(as_text=True)
    client.get("/?lang=zh_CN")
    page = client.get(f"/payments/{attempt_id}/processing").get_data(as_text=True)
    assert zh in page
    assert "Your card" not in page  # never the processor's own English
    # Trying again with the card that succeeds books it on the same attempt.
    _sandbox(client, attempt_id, "4242424242424242")
    assert _payments_of(app, loan_id) == [221_000]


def test_sandbox_other_card_numbers_are_refused_in_both_languages(app, borrower):
    client, loan_id = borrower
    attempt_id = _checkout(app, client, loan_id)
    client.get("/?lang=en")
    response = _sandbox(client, attempt_id, "4111 1111 1111 1111")
    assert response.status_code == 422
    assert "Use one of the test cards" in response.get_data(as_text=True)
    client.get("/?lang=zh_CN")
    response = _sandbox(client, attempt_id, "5555 5555 5555 4444")
    assert "请使用本页列出的测试卡" in response.get_data(as_text=True)
    assert _payments_of(app, loan_id) == []


@pytest.mark.parametrize(
    "config",
    [{"STRIPE_SECRET_KEY": "sk_test_x"}, {"PORTAL_ENV": "production"}],
)
def test_the_sandbox_never_confirms_when_stripe_is_on_or_in_production(app, borrower, config):
    client, loan_id = borrower
    attempt_id = _checkout(app, client, loan_id)
    app.config.update(config)
    assert _sandbox(client, attempt_id, "4242424242424242").status_code == 404
    assert _payments_of(app, loan_id) == []


def test_the_returning_browser_books_nothing(app, borrower):
    """Stripe's return to the processing page (with its query) only reads the attempt."""
    client, loan_id = borrower
    attempt_id = _checkout(app, client, loan_id)
    page = client.get(
        f"/payments/{attempt_id}/processing?payment_intent=pi_x&redirect_status=succeeded"
    )
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-state="waiting"' in html
    assert re.search(r'data-panel="waiting"\s*>', html)  # shown, not hidden
    assert re.search(r'data-panel="paid"\s+hidden', html)
    assert _payments_of(app, loan_id) == []


def test_with_stripe_keys_the_pay_page_leads_to_the_payment_element(
    app, client, overdue_loan, frozen, fake_stripe
):
    """Through the real StripeGateway: the checkout mounts Stripe's Payment Element for the
    intent the local Stripe server made, with no sandbox in sight."""
    account, loan_id = overdue_loan
    login(client, account)
    location = _post_pay(client, loan_id, option="overdue", action="pay").headers["Location"]
    [attempt] = _attempts(app)
    assert attempt.provider is Provider.STRIPE
    assert fake_stripe.intent(attempt.intent_id)["amount"] == 221_000
    html = client.get(location).get_data(as_text=True)
    assert f'data-client-secret="{attempt.client_secret}"' in html
    assert f'data-publishable-key="{fake_stripe.publishable_key}"' in html
    assert "static/js/payment_element.js" in html
    assert 'data-testid="sandbox-banner"' not in html


def test_pages_issue_a_fixed_number_of_statements(app, borrower, make_loan):
    """The pay page and the processing page: as many statements for a 24-installment loan
    with payments as for a 6-installment one."""
    from portal.loans.models import PaymentMethod
    from portal.loans.services import record_payment
    from tests.conftest import count_queries

    client, small = borrower
    big = make_loan(client.account.id, terms=24)
    with app.app_context():
        for _ in range(3):
            record_payment(
                loan_id=big,
                amount_minor=1_000,
                currency="CNY",
                method=PaymentMethod.CARD,
                received_at=NOW_FOR_PAGES,
            )
        db.session.commit()
    assert count_queries(app, client, f"/loans/{small}/pay") == count_queries(
        app, client, f"/loans/{big}/pay"
    )
    location = _post_pay(
        client, big, option="other", other_amount="10", previewed="1000", action="pay"
    ).headers["Location"]
    attempt_id = int(location.rsplit("/", 1)[1])
    assert count_queries(app, client, f"/payments/{attempt_id}/processing") <= 6


HOSTILE = (
    "x" * 100_000,
    "a\x01b",
    "a\u202eb",
    "１２",
    "²",
    "1e999999",
    "NaN",
    "-1",
    str(10**30),
    "",
)


def test_hostile_values_in_the_pay_and_card_forms_never_fail_or_pay(app, borrower):
    """Each hostile value in each field of the pay form and the sandbox card form: never a 5xx,
    no attempt from the pay form's preview, and nothing booked from the card form."""
    client, loan_id = borrower
    attempt_id = _checkout(app, client, loan_id)
    app.config["WTF_CSRF_ENABLED"] = False
    forms = (
        (
            f"/loans/{loan_id}/pay",
            {"option": "other", "other_amount": "10", "action": "preview", **FIXED},
        ),
        (
            f"/payments/{attempt_id}/sandbox",
            {"card_number": "4000000000000002", "expiry": "12/34", "cvc": "123"},
        ),
    )
    failures = []
    for target, valid in forms:
        for name in valid:
            for value in HOSTILE:
                response = client.post(target, data={**valid, name: value})
                if response.status_code >= 500:
                    failures.append((target, name, value[:20], response.status_code))
    assert failures == []
    assert len(_attempts(app)) == 1
    assert _payments_of(app, loan_id) == []
