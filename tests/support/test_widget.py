"""The chat launcher on borrower pages: there for borrowers, absent for staff, anonymous visitors,
the chat page itself and the embedded chat."""

from __future__ import annotations

from datetime import date, timedelta

from tests.conftest import login

LAUNCHER = 'data-testid="support-widget-launcher"'


def test_borrower_pages_carry_the_launcher_with_a_lazy_panel(app, client, inbox, make_loan):
    """The dashboard has the launcher; the iframe has no src until opened, so nothing loads."""
    make_loan(inbox.borrower.id, disbursed_on=date.today() - timedelta(days=60))
    login(client, inbox.borrower)
    html = client.get("/").get_data(as_text=True)
    assert LAUNCHER in html
    assert 'data-src="/support/chat?embed=1"' in html
    assert 'id="support-widget-frame" class="support-widget-frame" title' in html
    assert "socket.io.min.js" not in html


def test_the_chat_page_and_its_embedded_copy_have_no_launcher(app, client, inbox):
    """No launcher inside the chat page or the panel's own iframe; the embed hides the chrome."""
    login(client, inbox.borrower)
    assert LAUNCHER not in client.get("/support/chat").get_data(as_text=True)
    embedded = client.get("/support/chat?embed=1").get_data(as_text=True)
    assert LAUNCHER not in embedded
    assert 'class="d-flex flex-column min-vh-100 embedded"' in embedded


def test_staff_and_anonymous_visitors_get_no_launcher(app, client, inbox):
    """Agents work in the console; anonymous visitors have no chat."""
    assert LAUNCHER not in client.get("/login").get_data(as_text=True)
    login(client, inbox.agent)
    assert LAUNCHER not in client.get("/staff/").get_data(as_text=True)


def test_only_the_chat_pages_may_be_framed_and_only_by_the_portal(app, client, inbox):
    """The panel's iframe needs the chat page framable by the same origin; other pages stay DENY."""
    login(client, inbox.borrower)
    chat = client.get("/support/chat?embed=1")
    assert chat.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in chat.headers["Content-Security-Policy"]
    home = client.get("/")
    assert home.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in home.headers["Content-Security-Policy"]
