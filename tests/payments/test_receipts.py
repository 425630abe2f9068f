"""Receipts: who may see one, what it shows in each language, the PDF, the email once."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from portal.auth.models import Channel, Role
from portal.extensions import db
from portal.loans.models import Installment, Payment
from portal.messaging.models import Message
from portal.payments.receipts import send_receipt
from tests.conftest import Account, login, page_text
from tests.payments.conftest import NOW, install_receipt_templates, pdf_text_and_fonts

LATE_CHARGE = 1_500  # on the first installment, paid first by the waterfall


@dataclass(frozen=True)
class Booked:
    borrower: Account
    loan_id: int
    payment_id: int

    @property
    def url(self) -> str:
        return f"/payments/receipts/{self.payment_id}"


@pytest.fixture
def booked(app, make_user, make_loan, book):
    """A payment of the first installment (with a late charge) and 100.00 of the second."""

    def factory(locale: str = "en", name: str = "Wang Fang") -> Booked:
        borrower = make_user(locale=locale, name=name)
        loan_id = make_loan(borrower.id)
        with app.app_context():
            first = db.session.scalar(
                select(Installment).where(Installment.loan_id == loan_id, Installment.sequence == 1)
            )
            first.late_charge_due = LATE_CHARGE
            total = first.total_due
            db.session.commit()
        payment_id = book(loan_id, total + 10_000, reference="pi_3PzX9a2eZvKYlo2C1abc4321")
        return Booked(borrower, loan_id, payment_id)

    return factory


def test_borrower_sees_their_receipt_in_english(client, booked):
    """Amount, local time, method, masked reference, allocation with late charges, balance."""
    paid = booked()
    login(client, paid.borrower)
    response = client.get(paid.url)
    assert response.status_code == 200
    text = page_text(response)
    assert "Payment receipt" in text
    assert f"R-{paid.payment_id:08d}" in text
    assert "CN¥705.00" in text  # 500 + 60 + 30 + 15 late + 100 of the second
    assert "12:30" in text  # 04:30 UTC is 12:30 in Shanghai
    assert "Card" in text
    assert "pi_…4321" in text
    assert "pi_3PzX9a2eZvKYlo2C1abc4321" not in text
    assert "Late charges" in text
    assert "CN¥15.00" in text
    assert "late_charge" not in text  # labels, never codes
    assert "Loan balance after this payment" in text
    assert f'href="/payments/receipts/{paid.payment_id}.pdf"' in response.get_data(as_text=True)


def test_chinese_borrower_sees_a_chinese_receipt(client, booked):
    """Labels, money and dates in Chinese."""
    paid = booked(locale="zh_CN", name="王芳")
    login(client, paid.borrower)
    text = page_text(client.get(paid.url))
    assert "还款凭证" in text
    assert "本次还款的分配" in text
    assert "滞纳金" in text
    assert "¥705.00" in text
    assert "王芳" in text


def test_loan_page_links_each_payment_to_its_receipt(client, booked):
    """The borrower reaches the receipt from the loan page."""
    paid = booked()
    login(client, paid.borrower)
    html = client.get(f"/loans/{paid.loan_id}").get_data(as_text=True)
    assert f'href="/payments/receipts/{paid.payment_id}"' in html


def test_another_borrower_gets_404(client, make_user, booked):
    """Someone else's receipt, page or PDF, does not exist for a borrower."""
    paid = booked()
    login(client, make_user())
    assert client.get(paid.url).status_code == 404
    assert client.get(paid.url + ".pdf").status_code == 404
    assert client.get("/payments/receipts/999999").status_code == 404


@pytest.mark.parametrize("role", [Role.AGENT, Role.COLLECTOR, Role.ADMIN])
def test_staff_see_any_receipt(client, make_user, booked, role):
    """Staff answer borrowers' questions: every receipt is open to them."""
    paid = booked()
    login(client, make_user(role))
    assert client.get(paid.url).status_code == 200


def test_anonymous_visitors_sign_in_first(client, booked):
    """No session, no receipt."""
    response = client.get(booked().url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_chinese_pdf_renders_chinese_text_with_a_cjk_font(client, booked, tmp_path):
    """The PDF's text layer holds the Chinese words, drawn with an embedded CJK font."""
    paid = booked(locale="zh_CN", name="王芳")
    login(client, paid.borrower)
    response = client.get(paid.url + ".pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    text, fonts = pdf_text_and_fonts(response.data, tmp_path)
    for words in ("还款凭证", "王芳", "滞纳金", "本次还款后的借款余额", "¥705.00"):
        assert words in text, words
    assert "WenQuanYi" in fonts or "CJK" in fonts
    assert " yes " in fonts  # embedded


def test_english_pdf(client, booked, tmp_path):
    """The English PDF reads in English."""
    paid = booked()
    login(client, paid.borrower)
    text, _fonts = pdf_text_and_fonts(client.get(paid.url + ".pdf").data, tmp_path)
    assert "Payment receipt" in text
    assert "Late charges" in text


def test_email_receipt_is_queued_once_per_payment_in_chinese(app_ctx, booked):
    """send_receipt twice (a webhook delivered twice): one email, with the allocation."""
    paid = booked(locale="zh_CN", name="王芳")
    install_receipt_templates("zh_CN")
    payment = db.session.get(Payment, paid.payment_id)
    first = send_receipt(payment, now=NOW)
    second = send_receipt(payment, now=NOW)
    db.session.commit()
    assert first is not None
    assert second is not None
    assert first.id == second.id
    assert db.session.scalar(select(func.count()).select_from(Message)) == 1
    assert first.channel is Channel.EMAIL
    assert first.purpose == "payment_receipt"
    assert first.locale == "zh_CN"
    assert "¥705.00" in first.body_text
    assert "滞纳金：¥15.00" in first.body_text
    assert "第 2 期" in first.body_text
    assert f"/payments/receipts/{paid.payment_id}" in first.body_text


def test_email_receipt_in_english_has_the_allocation(app_ctx, booked):
    """English words, amounts and the credit line when there is credit."""
    paid = booked()
    install_receipt_templates("en")
    message = send_receipt(db.session.get(Payment, paid.payment_id), now=NOW)
    assert message is not None
    assert "Late charges: CN¥15.00" in message.body_text
    assert "Installment 2" in message.body_text


def test_missing_template_never_blocks_the_booking(app_ctx, booked):
    """No payment_receipt template installed: no email, no error."""
    paid = booked()
    assert send_receipt(db.session.get(Payment, paid.payment_id), now=NOW) is None
