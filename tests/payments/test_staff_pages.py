"""Staff views of payments: history on the case page, the admin's refund form, payment issues."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.auth.models import Role
from portal.extensions import db
from portal.payments.models import Dispute, IssueKind, PaymentIssue, Refund, RefundStatus
from tests.collections.conftest import make_case
from tests.conftest import Account, count_queries, csrf_token, login, page_text
from tests.payments.conftest import NOW, PAID_AT


@dataclass(frozen=True)
class Case:
    case_id: int
    loan_id: int
    payment_id: int
    collector: Account
    admin: Account

    @property
    def url(self) -> str:
        return f"/staff/collections/cases/{self.case_id}"

    @property
    def refund_url(self) -> str:
        return f"/staff/payments/{self.payment_id}/refund"


@pytest.fixture
def case(app, make_user, make_loan, book):
    borrower = make_user()
    loan_id = make_loan(borrower.id)
    payment_id = book(loan_id, 20_000, reference="pi_3PzX9a2eZvKYlo2C1abc4321")
    collector = make_user(Role.COLLECTOR, locale="en")
    admin = make_user(Role.ADMIN, locale="en")
    case_id = make_case(app, borrower_id=borrower.id, loan_id=loan_id, assigned_to=collector.id)
    return Case(case_id, loan_id, payment_id, collector, admin)


def _signed_in(app, account):
    client = app.test_client()
    login(client, account)
    return client


def _refund(client, case, **fields):
    data = {
        "csrf_token": csrf_token(client, case.refund_url),
        "amount": "50.00",
        "reason": "Borrower paid twice",
        "confirm": "y",
        "next": case.url,
        **fields,
    }
    return client.post(case.refund_url, data=data)


def _refunds():
    return db.session.scalars(select(Refund)).all()


def test_case_page_shows_the_loans_payments_with_refunds_and_disputes(app, case):
    """Date, amount, method, full processor reference, allocation, refunds, disputes, receipt."""
    with app.app_context():
        db.session.add(
            Refund(
                payment_id=case.payment_id,
                amount_minor=1_000,
                currency="CNY",
                reason="Goodwill <b>gesture</b>",
                idempotency_key="k1",
                status=RefundStatus.FAILED,
                requested_by=case.admin.id,
                created_at=NOW,
            )
        )
        db.session.add(
            Dispute(
                processor_dispute_id="dp_1",
                payment_id=case.payment_id,
                amount_minor=20_000,
                currency="CNY",
                status="needs_response",
                opened_at=NOW - timedelta(days=1),
            )
        )
        db.session.commit()
    client = _signed_in(app, case.collector)
    response = client.get(case.url)
    assert response.status_code == 200
    text = page_text(response)
    html = response.get_data(as_text=True)
    assert 'data-testid="payment-history"' in html
    assert "pi_3PzX9a2eZvKYlo2C1abc4321" in text  # staff match it in the processor's dashboard
    assert "CN¥200.00" in text
    assert "Card" in text
    assert "Fees: CN¥30.00" in text
    assert "Interest: CN¥60.00" in text
    assert "Refund CN¥10.00 (Failed)" in text
    assert "Goodwill &lt;b&gt;gesture&lt;/b&gt;" in html
    assert "Dispute CN¥200.00: Needs a response" in text
    assert "needs_response" not in text
    assert f'href="/payments/receipts/{case.payment_id}"' in html
    assert 'data-testid="refund-form"' not in html  # collectors do not refund


def test_admin_sees_a_refund_form_per_payment(app, case):
    """Admins get the form, with what is left to refund."""
    html = _signed_in(app, case.admin).get(case.url).get_data(as_text=True)
    assert 'data-testid="refund-form"' in html
    assert "Refund (up to CN¥200.00)" in html
    assert f'action="/staff/payments/{case.payment_id}/refund"' in html


def test_case_without_payments_says_what_happens(app, make_user, make_loan):
    """An empty history explains where payments come from."""
    borrower = make_user()
    admin = make_user(Role.ADMIN, locale="en")
    case_id = make_case(
        app, borrower_id=borrower.id, loan_id=make_loan(borrower.id), assigned_to=None
    )
    text = page_text(_signed_in(app, admin).get(f"/staff/collections/cases/{case_id}"))
    assert "No payments on this loan yet" in text


def test_admin_refund_through_the_form(app, case, processor, reversals):
    """A refund with reason and confirmation: recorded, reversed, audited, back to the case."""
    client = _signed_in(app, case.admin)
    response = _refund(client, case)
    assert response.status_code == 303
    assert response.headers["Location"] == case.url
    with app.app_context():
        [refund] = _refunds()
        assert (refund.amount_minor, refund.status) == (5_000, RefundStatus.SUCCEEDED)
        assert refund.requested_by == case.admin.id
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "payment.refunded"))
        assert event.actor_id == case.admin.id
    assert "Refunded CN¥50.00." in page_text(client.get(case.url))
    assert reversals == [(case.loan_id, reversals[0][1])]


def test_refund_page_shows_what_is_left(app, case):
    """The refund page on its own: the payment and what is left to refund."""
    response = _signed_in(app, case.admin).get(case.refund_url)
    assert response.status_code == 200
    assert "Left to refund CN¥200.00" in page_text(response)


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("-5", "Enter an amount such as 1,250.00."),
        ("0", "A refund is more than zero."),
        ("1.234", "Enter an amount such as 1,250.00."),
        ("abc", "Enter an amount such as 1,250.00."),
        ("1e9", "Enter an amount such as 1,250.00."),
        ("NaN", "Enter an amount such as 1,250.00."),
        ("９", "Enter an amount such as 1,250.00."),
        ("99999999999999999999", "Enter an amount such as 1,250.00."),
        ("1" * 21, "That is not an amount."),
        ("200.01", "at most what is left of the payment: 200.00 CNY"),
        ("", "Please enter an amount."),
    ],
)
def test_hostile_amounts_are_refused_and_refund_nothing(app, case, processor, amount, message):
    """Negative, zero, too many decimals, text, exponents, full-width, huge, over: 422."""
    response = _refund(_signed_in(app, case.admin), case, amount=amount)
    assert response.status_code == 422
    assert message in page_text(response)
    assert processor.calls == []
    with app.app_context():
        assert _refunds() == []


def test_control_characters_in_the_reason_are_refused(app, case, processor):
    """A NUL byte never reaches the service (the portal's input guard answers 400)."""
    response = _refund(_signed_in(app, case.admin), case, reason="paid\x00twice")
    assert response.status_code == 400
    assert processor.calls == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"reason": "   "}, "Give a reason for the refund."),
        ({"reason": "x" * 501}, "A reason has at most 500 characters."),
        ({"confirm": ""}, "Tick the box to confirm the refund."),
    ],
)
def test_refund_needs_a_reason_and_a_confirmation(app, case, processor, fields, message):
    """No reason, a novel, or no tick: 422 with the error, nothing refunded."""
    response = _refund(_signed_in(app, case.admin), case, **fields)
    assert response.status_code == 422
    assert message in page_text(response)
    assert processor.calls == []


def test_refund_without_csrf_token_is_refused(app, case, processor):
    """A forged post without the token refunds nothing."""
    client = _signed_in(app, case.admin)
    response = client.post(case.refund_url, data={"amount": "1", "reason": "x", "confirm": "y"})
    assert response.status_code in (400, 422)
    assert processor.calls == []


def test_processor_down_keeps_a_failed_refund_and_an_alert(app, case, processor, reversals):
    """The admin sees a clear message; the failed refund and the staff alert are kept."""
    processor.mode = "unreachable"
    response = _refund(_signed_in(app, case.admin), case)
    assert response.status_code == 503
    assert "We could not reach the payment service" in page_text(response)
    with app.app_context():
        [refund] = _refunds()
        assert refund.status is RefundStatus.FAILED
        assert db.session.scalar(select(func.count()).select_from(PaymentIssue)) == 1
    assert reversals == []


@pytest.mark.parametrize("role", [Role.COLLECTOR, Role.AGENT, Role.BORROWER])
def test_only_admins_refund(app, make_user, case, processor, role):
    """Everyone else gets 403 on the refund page and its post."""
    client = _signed_in(app, make_user(role))
    assert client.get(case.refund_url).status_code == 403
    token = csrf_token(client, "/" if role is Role.BORROWER else "/staff/")
    response = client.post(
        case.refund_url,
        data={"csrf_token": token, "amount": "1", "reason": "x", "confirm": "y"},
    )
    assert response.status_code == 403
    assert processor.calls == []


# --- Payment issues -----------------------------------------------------------------------


def _issue(app, kind=IssueKind.AMOUNT_MISMATCH, detail="pi_1: 100.00 CNY asked, 90.00 CNY taken"):
    with app.app_context():
        issue = PaymentIssue(kind=kind, detail=detail, event_id="evt_1", created_at=PAID_AT)
        db.session.add(issue)
        db.session.commit()
        return issue.id


def test_issues_page_empty_state(app, make_user):
    """No issues: the page says so and what would appear."""
    text = page_text(
        _signed_in(app, make_user(Role.COLLECTOR, locale="en")).get("/staff/payments/issues")
    )
    assert "No payment issues need attention." in text


def test_issues_are_shown_by_kind_in_the_readers_language(app, make_user):
    """A label and guidance per kind, never the code; escaped detail."""
    _issue(app, detail="<script>x</script>")
    _issue(app, IssueKind.PROCESSOR_UNREACHABLE)
    response = _signed_in(app, make_user(Role.COLLECTOR, locale="zh_CN")).get(
        "/staff/payments/issues"
    )
    text = page_text(response)
    assert "金额或币种不符" in text
    assert "无法连接支付服务" in text
    assert "amount_mismatch" not in text
    assert "&lt;script&gt;x&lt;/script&gt;" in response.get_data(as_text=True)
    assert "由管理员处理" in text  # collectors see, admins resolve


def test_staff_home_shows_the_open_issues_badge(app, make_user):
    """The alert appears with the count and a link, and goes away when none is open."""
    client = _signed_in(app, make_user(Role.AGENT, locale="en"))
    assert 'data-testid="payment-issues-alert"' not in client.get("/staff/").get_data(as_text=True)
    _issue(app)
    _issue(app)
    html = client.get("/staff/").get_data(as_text=True)
    assert 'data-testid="payment-issues-badge">2<' in html
    assert "2 payment issues need attention." in page_text(client.get("/staff/"))
    assert 'href="/staff/payments/issues"' in html


def test_admin_resolves_an_issue_with_a_note(app, make_user):
    """Resolved, noted, audited; it leaves the open list."""
    issue_id = _issue(app)
    admin = make_user(Role.ADMIN, locale="en")
    client = _signed_in(app, admin)
    url = f"/staff/payments/issues/{issue_id}/resolve"
    token = csrf_token(client, "/staff/payments/issues")
    empty = client.post(url, data={"csrf_token": token, "note": "  "})
    assert empty.status_code == 422
    assert "Say what was done about it." in page_text(empty)
    response = client.post(url, data={"csrf_token": token, "note": "Refunded the 10.00 difference"})
    assert response.status_code == 303
    with app.app_context():
        issue = db.session.get(PaymentIssue, issue_id)
        assert issue.resolved_by == admin.id
        assert issue.resolution == "Refunded the 10.00 difference"
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "payment.issue_resolved")
        )
        assert event.actor_id == admin.id
    text = page_text(client.get("/staff/payments/issues"))
    assert "No payment issues need attention." in text
    assert "Refunded the 10.00 difference" in text
    again = client.post(url, data={"csrf_token": token, "note": "twice"})
    assert again.status_code == 422


def test_only_admins_resolve_issues(app, make_user):
    """A collector's post is refused."""
    issue_id = _issue(app)
    client = _signed_in(app, make_user(Role.COLLECTOR))
    token = csrf_token(client, "/staff/")
    response = client.post(
        f"/staff/payments/issues/{issue_id}/resolve", data={"csrf_token": token, "note": "done"}
    )
    assert response.status_code == 403


def test_payment_history_costs_the_same_queries_for_many_payments(
    app, case, book, processor, reversals
):
    """Five payments with refunds take as many queries as one."""
    client = _signed_in(app, case.admin)
    with_one = count_queries(app, client, case.url)
    for _ in range(4):
        book(case.loan_id, 1_000)
    assert _refund(client, case).status_code == 303
    assert count_queries(app, client, case.url) == with_one
