"""Where the borrower is told to contact us, they are told how: the support line and mailbox."""

from __future__ import annotations

from datetime import timedelta

from portal.timeutil import local_today, utcnow
from tests.collections.legal.conftest import approved_case, post
from tests.conftest import login, page_text


def test_dashboard_with_arrears_links_the_support_line(client, make_user, make_loan):
    """ "Contact us" on the dashboard comes with tel: and mailto: links from the settings."""
    borrower = make_user(locale="en")
    make_loan(borrower.id, disbursed_on=local_today("Asia/Shanghai", utcnow()) - timedelta(60))
    login(client, borrower)
    html = client.get("/").get_data(as_text=True)
    assert 'href="tel:+864008001234"' in html
    assert 'href="mailto:support@settle.local"' in html
    assert "(09:00-21:00, China Time)" in page_text(client.get("/"))


def test_plans_page_says_how_to_reach_support(app, client, make_user, make_loan):
    """The plans page asks the borrower to contact support and gives the configured number."""
    app.config["SUPPORT_PHONE"] = "+86 21 5555 0100"
    borrower = make_user(locale="en")
    loan_id = make_loan(borrower.id)
    login(client, borrower)
    html = client.get(f"/loans/{loan_id}/plans").get_data(as_text=True)
    assert 'href="tel:+862155550100"' in html
    assert ">+86 21 5555 0100</a>" in html


def test_lawyer_letter_names_the_support_contacts_as_text(app, client, make_user, make_loan):
    """The letter's "contact us" and complaint route name the phone and email, without links."""
    case, admin, _account = approved_case(app, make_user, make_loan)
    assert post(admin, case.url("letter"), {}, form_page=case.url()).status_code == 303
    html = admin.get(case.url("letter.html")).get_data(as_text=True)
    text = page_text(admin.get(case.url("letter.html")))
    assert "To reach us or to make a complaint: Call us on +86 400 800 1234" in text
    assert "support@settle.local" in text
    assert "tel:" not in html
    assert "mailto:" not in html


def test_support_hours_name_the_time_zone_in_the_readers_language(client, make_user, make_loan):
    """A Chinese borrower reads the support hours' zone as 中国时间, not the code Asia/Shanghai."""
    borrower = make_user(locale="zh_CN")
    make_loan(borrower.id, disbursed_on=local_today("Asia/Shanghai", utcnow()) - timedelta(60))
    login(client, borrower)
    text = page_text(client.get("/"))
    assert "09:00-21:00，中国时间" in text
    assert "Asia/Shanghai" not in text
