"""The customer panel beside a conversation: the borrower's plan, recent payments, promises,
complaints, contact holds and channel preferences, in words, for a fixed number of statements."""

from __future__ import annotations

import re
from datetime import timedelta

from portal.auth.models import Channel, ContactPreference, Role
from portal.complaints.models import Complaint, ComplaintCategory, ComplaintChannel, ComplaintStatus
from portal.extensions import db
from portal.loans.models import Loan, PaymentMethod
from portal.loans.services import record_payment
from portal.messaging.models import ContactHold, HoldReason
from portal.plans.models import PlanStatus, RepaymentPlan
from portal.plans.schedule import Frequency
from portal.support.conversations import open_conversation_of
from portal.support.panel import customer_panel
from portal.timeutil import local_today, utcnow
from tests.collections.conftest import make_case
from tests.conftest import count_queries, csrf_token, login, page_text


def _loan(make_loan, borrower_id: int) -> int:
    today = local_today("Asia/Shanghai", utcnow())
    return make_loan(borrower_id, disbursed_on=today - timedelta(days=45))


def _borrower_with_everything(app, make_loan, borrower_id: int) -> int:
    """A late loan with a pending plan, a payment, a pending promise, an open complaint, a
    dispute hold that lapses in a week and e-mail switched off; returns the loan id."""
    loan_id = _loan(make_loan, borrower_id)
    now = utcnow()
    today = local_today("Asia/Shanghai", now)
    make_case(
        app,
        borrower_id=borrower_id,
        loan_id=loan_id,
        assigned_to=None,
        promise_on=today + timedelta(days=3),
    )
    with app.app_context():
        record_payment(
            loan_id=loan_id,
            amount_minor=12_300,
            currency="CNY",
            method=PaymentMethod.CARD,
            received_at=now - timedelta(days=2),
        )
        first_due = today + timedelta(days=5)
        db.session.add(
            RepaymentPlan(
                loan_id=loan_id,
                borrower_id=borrower_id,
                status=PlanStatus.PENDING,
                policy_version=0,
                installment_count=3,
                frequency=Frequency.MONTHLY,
                currency="CNY",
                balance_minor=90_000,
                financed_minor=90_000,
                start_on=today,
                schedule=[
                    {
                        "due_date": (first_due + timedelta(days=30 * n)).isoformat(),
                        "amount_minor": 30_000,
                    }
                    for n in range(3)
                ],
                consented_at=now,
            )
        )
        db.session.add(
            Complaint(
                reference="CP-2026-000077",
                borrower_id=borrower_id,
                category=ComplaintCategory.AMOUNT_DISPUTE,
                description="The late fee is wrong.",
                loan_id=loan_id,
                channel=ComplaintChannel.CHAT,
                status=ComplaintStatus.INVESTIGATING,
                rulebook_code="CN",
                received_at=now,
                acknowledge_due_at=now + timedelta(days=1),
                response_due_at=now + timedelta(days=15),
            )
        )
        db.session.add(
            ContactHold(
                borrower_id=borrower_id,
                reason=HoldReason.DISPUTE,
                opened_at=now,
                expires_at=now + timedelta(days=7),
            )
        )
        # A closed hold and a closed complaint are not shown.
        db.session.add(
            ContactHold(
                borrower_id=borrower_id,
                reason=HoldReason.HARDSHIP_REVIEW,
                opened_at=now - timedelta(days=9),
                closed_at=now - timedelta(days=8),
            )
        )
        db.session.execute(
            db.update(ContactPreference)
            .where(
                ContactPreference.borrower_id == borrower_id,
                ContactPreference.channel == Channel.EMAIL,
            )
            .values(allowed=False)
        )
        db.session.commit()
    return loan_id


def _conversation_page(app, client, inbox) -> str:
    """The borrower starts a chat; an admin (who may read any) opens it. Returns the path."""
    login(client, inbox.borrower)
    token = csrf_token(client, "/support/chat")
    client.post("/support/chat", data={"topic": "repayment", "csrf_token": token})
    with app.app_context():
        conversation_id = open_conversation_of(inbox.borrower.id).id
    return f"/staff/support/{conversation_id}"


def test_the_panel_gathers_plan_payments_promises_complaints_holds_and_preferences(
    app, client, inbox, make_loan
):
    """The service returns each; the page names them in words, amounts with their currency."""
    loan_id = _borrower_with_everything(app, make_loan, inbox.borrower.id)
    with app.app_context():
        panel = customer_panel(inbox.borrower.id, now=utcnow())
        reference = db.session.get_one(Loan, loan_id).reference
        assert [p.progress.plan.status for p in panel.plans] == [PlanStatus.PENDING]
        progress = panel.plans[0].progress
        assert (progress.paid_count, len(progress.payments)) == (0, 3)
        assert progress.next_payment is not None
        assert progress.next_payment.amount_minor == 30_000
        assert [(p.payment.amount_minor, p.state) for p in panel.payments] == [(12_300, "booked")]
        assert [(p.promise.amount_minor, p.loan_reference) for p in panel.promises] == [
            (5_000, reference)
        ]
        assert [c.reference for c in panel.complaints] == ["CP-2026-000077"]
        assert [h.reason for h in panel.holds] == [HoldReason.DISPUTE]
        assert panel.channels_allowed[Channel.EMAIL] is False
        assert panel.channels_allowed[Channel.SMS] is True
        assert not panel.sms_opted_out
    admin = app.test_client()
    login(admin, inbox.admin)
    page = admin.get(_conversation_page(app, client, inbox))
    assert page.status_code == 200
    text = page_text(page)
    html = page.get_data(as_text=True)
    assert "Waiting for the down payment, 0 of 3 paid, next CN¥300.00 on" in text
    assert "CN¥123.00" in text
    assert "Booked" in text
    assert f"{reference}: CN¥50.00 by" in text
    assert "(Pending)" in text
    assert re.search(r"CP-2026-000077\s*: Investigating", text)
    assert "/staff/complaints/" in html
    assert "Contact on hold (Dispute) until" in text
    assert "Hardship review" not in text
    assert 'data-testid="panel-channel-email">Opted out' in html
    assert 'data-testid="panel-channel-sms">Allowed' in html
    assert "investigating" not in text
    assert "dispute)" not in text


def test_the_panel_speaks_chinese_to_a_chinese_reader(app, client, inbox, make_user, make_loan):
    """An admin reading in Chinese sees the panel's headings, statuses and holds in Chinese."""
    _borrower_with_everything(app, make_loan, inbox.borrower.id)
    path = _conversation_page(app, client, inbox)
    reader = app.test_client()
    login(reader, make_user(Role.ADMIN, locale="zh_CN"))
    text = page_text(reader.get(path))
    for words in (
        "最近还款",
        "已入账",
        "等待支付首付",
        "已还 0 期，共 3 期",
        "暂停联系（争议）",
        "已退订",
    ):
        assert words in text
    assert "Recent payments" not in text


def test_the_panel_shows_its_absences_in_words(app, client, inbox):
    """A borrower with nothing: each section says so."""
    admin = app.test_client()
    login(admin, inbox.admin)
    text = page_text(admin.get(_conversation_page(app, client, inbox)))
    for words in (
        "No repayment plan.",
        "No open promise to pay.",
        "No payments yet.",
        "No open complaint.",
    ):
        assert words in text


def test_the_panel_statements_stay_fixed_with_more_loans_and_payments(
    app, client, inbox, make_loan
):
    """Three more loans, each with payments, promises and plans: the same number of statements."""
    _borrower_with_everything(app, make_loan, inbox.borrower.id)
    path = _conversation_page(app, client, inbox)
    admin = app.test_client()
    login(admin, inbox.admin)
    one = count_queries(app, admin, path)
    for _ in range(3):
        loan_id = _loan(make_loan, inbox.borrower.id)
        make_case(
            app,
            borrower_id=inbox.borrower.id,
            loan_id=loan_id,
            assigned_to=inbox.agent.id,
            promise_on=local_today("Asia/Shanghai", utcnow()) + timedelta(days=4),
        )
        with app.app_context():
            for days in (1, 2):
                record_payment(
                    loan_id=loan_id,
                    amount_minor=1_000,
                    currency="CNY",
                    method=PaymentMethod.ALIPAY,
                    received_at=utcnow() - timedelta(days=days),
                )
            db.session.commit()
    assert count_queries(app, admin, path) == one
