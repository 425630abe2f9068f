"""Reading notices in the portal: in the reader's language, with the site's own links, and a
clean preview in the list."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.auth.models import Channel, User
from portal.extensions import db
from portal.messaging.dispatch import dispatch_due
from portal.messaging.models import Message, MessageRendering
from portal.messaging.notice_text import linkify, paragraphs, preview
from portal.messaging.notices.services import send_overdue_notice
from portal.timeutil import local_today, utcnow
from tests.conftest import login, page_text


@pytest.fixture
def sent_notice(app, make_user, make_loan, templates_installed):
    """A Chinese-speaking borrower with an overdue notice sent to the portal."""

    def factory(locale: str = "zh_CN", channel: Channel = Channel.PORTAL):
        borrower = make_user(locale=locale)
        now = utcnow()
        today = local_today("Asia/Shanghai", now)
        with app.app_context():
            loan_id = make_loan(borrower.id, disbursed_on=today - timedelta(days=45), terms=3)
            notice = send_overdue_notice(loan_id, channel=channel, now=now)
            db.session.commit()
            dispatch_due(lambda: now, channels={channel})
            return borrower, notice.id, loan_id

    return factory


def _switch_to(app, borrower, locale: str) -> None:
    with app.app_context():
        db.session.get(User, borrower.id).locale = locale
        db.session.commit()


def test_notice_follows_the_page_language(app, client, sent_notice):
    """A notice sent in Chinese reads in English once the borrower switches the page."""
    borrower, notice_id, _loan_id = sent_notice("zh_CN")
    _switch_to(app, borrower, "en")
    login(client, borrower)
    listing = page_text(client.get("/notices/"))
    page = page_text(client.get(f"/notices/{notice_id}"))
    for text in (listing, page):
        assert "A payment is past due" in text
        assert "逾期还款提醒" not in text
    assert "Days past due:" in page


def test_the_notice_as_sent_stays_the_record(app, sent_notice):
    """The message row keeps the Chinese text sent; English is a rendering beside it."""
    _borrower, notice_id, _loan_id = sent_notice("zh_CN")
    with app.app_context():
        notice = db.session.get(Message, notice_id)
        assert notice.locale == "zh_CN"
        assert notice.subject == "逾期还款提醒"
        english = db.session.scalar(
            select(MessageRendering).where(MessageRendering.message_id == notice_id)
        )
        assert (english.locale, english.subject) == ("en", "A payment is past due")
        assert "年" not in english.body_text  # dates formatted in English, not copied from zh


def test_email_gets_no_renderings(app, sent_notice):
    """Only portal notices carry renderings; an email is read as it was sent."""
    _borrower, notice_id, _loan_id = sent_notice("zh_CN", Channel.EMAIL)
    with app.app_context():
        assert db.session.scalars(select(MessageRendering)).all() == []


def test_portal_notice_links_are_relative_and_clickable(app, client, sent_notice):
    """The overdue notice links /loans/<id>/pay on the site itself, not PUBLIC_URL."""
    borrower, notice_id, loan_id = sent_notice("en")
    login(client, borrower)
    html = client.get(f"/notices/{notice_id}").get_data(as_text=True)
    assert f'<a href="/loans/{loan_id}/pay">/loans/{loan_id}/pay</a>' in html
    assert f'<a href="/loans/{loan_id}/plans">' in html
    assert "127.0.0.1:5000" not in html


def test_email_notice_keeps_absolute_links(app, sent_notice):
    """Email and SMS still carry absolute addresses from PUBLIC_URL."""
    _borrower, notice_id, loan_id = sent_notice("en", Channel.EMAIL)
    with app.app_context():
        body = db.session.get(Message, notice_id).body_text
    assert f"http://127.0.0.1:5000/loans/{loan_id}/pay" in body


def test_linkify_escapes_and_links_only_the_site(app_ctx):
    """Markup is escaped; foreign URLs and unknown paths stay text; PUBLIC_URL becomes a path."""
    text = (
        "<script>alert(1)</script> see /loans/7/pay. or http://127.0.0.1:5000/notices/ "
        'not https://evil.example/loans/7/pay nor /no-such-page nor "/loans/7/pay"'
    )
    html = str(linkify(text))
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert '<a href="/loans/7/pay">/loans/7/pay</a>.' in html
    assert '<a href="/notices/">/notices/</a>' in html
    assert html.count("<a ") == 2


def test_paragraphs_keep_line_breaks_escaped(app, app_ctx):
    """Blank lines split paragraphs, single newlines become <br>, text stays escaped."""
    template = app.jinja_env.from_string(
        "{% for p in body|notice_paragraphs %}<p>{{ p }}</p>{% endfor %}"
    )
    rendered = template.render(body="a <b>\nb\n\nc")
    assert rendered == "<p>a &lt;b&gt;<br>b</p><p>c</p>"
    assert len(paragraphs("one\n\n\n\ntwo")) == 2


def test_preview_never_cuts_a_name_in_english():
    """The greeting is skipped and a long sentence is cut at a word boundary."""
    body = "Dear Wang Fang,\n\nWe have noticed that a payment on your loan L-1 is now past due."
    assert preview(body) == "We have noticed that a payment on your loan L-1 is now past due."
    long = "Wang Fang " * 20
    cut = preview(long, limit=24)
    assert cut == "Wang Fang Wang Fang Wang…"
    assert preview("Dear Wang Fang, hello", limit=12) == "Dear Wang…"


def test_preview_cuts_chinese_by_characters():
    """Chinese has no spaces: the preview stops at the first sentence or a character count."""
    body = "王芳，您好：\n\n我们注意到，您的借款L-1有一笔款项未按期归还。也许只是一时疏忽。"
    assert preview(body) == "我们注意到，您的借款L-1有一笔款项未按期归还。"
    assert preview("一二三四五六七八九十", limit=4) == "一二三四…"


def test_notice_list_previews_the_first_sentence(app, client, sent_notice):
    """The list shows the notice's first sentence, not the greeting with a cut-off name."""
    borrower, _notice_id, _loan_id = sent_notice("en")
    login(client, borrower)
    html = client.get("/notices/").get_data(as_text=True)
    assert "We have noticed that a payment on your loan" in html
    assert "Dear " not in page_text(client.get("/notices/"))
