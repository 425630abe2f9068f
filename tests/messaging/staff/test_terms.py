"""Prohibited wording page: staff read the lists, admins add terms, templates then refuse them."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.auth.models import Channel, Role
from portal.extensions import db
from portal.messaging.models import ProhibitedTerm
from portal.messaging.templates import latest_version
from tests.conftest import csrf_token, login, page_text

URL = "/staff/messaging/terms"


@pytest.fixture
def admin(client, make_user):
    login(client, make_user(Role.ADMIN, locale="en", name="Ada Admin"))
    return client


def _add(client, term: str, *, locale: str = "en", category: str = "threat"):
    return client.post(
        URL,
        data={
            "csrf_token": csrf_token(client, URL),
            "locale": locale,
            "category": category,
            "term": term,
        },
    )


def _terms(app) -> list[tuple[str, str, str]]:
    with app.app_context():
        rows = db.session.execute(
            select(ProhibitedTerm.locale, ProhibitedTerm.category, ProhibitedTerm.term)
        ).all()
        return [tuple(row) for row in rows]


@pytest.mark.parametrize("role", [Role.AGENT, Role.COLLECTOR])
def test_staff_see_built_in_terms_by_category_without_the_form(client, make_user, role):
    """Agents and collectors read the lists per language and category, with no add form."""
    login(client, make_user(role, locale="en"))
    response = client.get(URL)
    assert response.status_code == 200
    text = page_text(response)
    assert "Insults" in text
    assert "deadbeat" in text
    assert "False legal claims" in text
    assert "已立案" in text
    assert 'data-testid="term-form"' not in response.get_data(as_text=True)


def test_admin_adds_a_term_trimmed_and_audited(app, admin):
    """A new term is stored trimmed, listed on the page and audited."""
    response = _add(admin, "  bananas forever  ", category="insult")
    assert response.status_code == 303
    assert _terms(app) == [("en", "insult", "bananas forever")]
    page = admin.get(URL)
    assert "“bananas forever” is now prohibited." in page_text(page)
    assert (
        "bananas forever" in page.get_data(as_text=True).split('data-testid="added-en-insult"')[1]
    )
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "prohibited_term.added")
        ).one()
        assert event.details == {"locale": "en", "category": "insult", "term": "bananas forever"}


@pytest.mark.parametrize("term", ["Jail", "  deadbeat "])
def test_a_built_in_term_cannot_be_added_again(app, admin, term):
    """A term the built-in list has (in any case) is refused with a friendly message."""
    response = _add(admin, term)
    assert response.status_code == 422
    assert "already on the list for this language" in page_text(response)
    assert _terms(app) == []


def test_an_added_term_cannot_be_added_twice(app, admin):
    """The same added term (in another case) is refused; the typed text stays in the field."""
    assert _add(admin, "bananas").status_code == 303
    response = _add(admin, "BANANAS", category="insult")
    assert response.status_code == 422
    assert "already on the list for this language" in page_text(response)
    assert 'value="BANANAS"' in response.get_data(as_text=True)
    assert _terms(app) == [("en", "threat", "bananas")]


def test_the_same_term_may_be_added_in_another_language(app, admin):
    """Duplicates are per language: a term in English may also be listed in Chinese."""
    assert _add(admin, "bananas").status_code == 303
    assert _add(admin, "bananas", locale="zh_CN").status_code == 303
    assert len(_terms(app)) == 2


@pytest.mark.parametrize(
    ("term", "message"),
    [("   ", "Please enter a word or phrase."), ("x" * 101, "Between 1 and 100 characters.")],
)
def test_empty_or_too_long_terms_are_refused(app, admin, term, message):
    """A term is 1 to 100 characters after trimming."""
    response = _add(admin, term)
    assert response.status_code == 422
    assert message in page_text(response)
    assert _terms(app) == []


def test_an_unknown_category_or_language_is_refused(app, admin):
    """Only the content check's categories and the supported languages are accepted."""
    assert _add(admin, "bananas", category="rudeness").status_code == 422
    assert _add(admin, "bananas", locale="fr").status_code == 422
    assert _terms(app) == []


def test_collectors_cannot_add_terms(app, client, make_user):
    """Adding a term is for admins only."""
    login(client, make_user(Role.COLLECTOR, locale="en"))
    assert _add(client, "bananas").status_code == 403
    assert _terms(app) == []


def test_a_template_with_a_newly_added_term_no_longer_saves(app, admin):
    """After an admin adds a term, saving a template that contains it fails validation."""
    url = "/staff/messaging/templates/due_today/sms/en"
    draft = "{{ borrower_name }}, bananas! {{ loan_reference }} is due: {{ amount_due }}."
    assert _add(admin, "bananas").status_code == 303
    response = admin.post(url, data={"csrf_token": csrf_token(admin, url), "body_text": draft})
    assert response.status_code == 422
    assert "Prohibited wording (Threats): “bananas”." in page_text(response)
    with app.app_context():
        assert latest_version("due_today", Channel.SMS, "en") is None
        assert db.session.scalar(select(func.count(ProhibitedTerm.id))) == 1
