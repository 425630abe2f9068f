"""Every page of the demo speaks one language: signed in as each demo role, every GET page the
role can reach (found by walking the URL map) is rendered in Chinese and in English, and fails
on a raw code (an enum value, a guard rule, a purpose code) shown as text, on Chinese in an
English page, or on English words left untranslated in a Chinese page, outside user data. The
CSV exports' headers are checked the same way.

One app and one seeded database for the module: the demo as ``flask demo seed`` builds it, the
daily collections run, a legal request approved and placed with an agency, and a logged call.
"""

from __future__ import annotations

import csv
import enum
import io
import json
import re
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from html.parser import HTMLParser

import pytest
from sqlalchemy import select, update

from portal import create_app
from portal.auth.models import Channel, Role, User
from portal.collections import labels as collections_labels
from portal.collections.legal.access import Actor
from portal.collections.legal.agency import place_with_agency
from portal.collections.legal.services import decide_request, pending_request, request_legal
from portal.collections.models import AgencyPlacement, CaseNote, CollectionCase, LegalRequest
from portal.collections.run import run_collections
from portal.demo import DEMO_PASSWORD, seed
from portal.extensions import db, limiter
from portal.i18n import LANGUAGE_NAMES
from portal.messaging import labels as messaging_labels
from portal.messaging.calls import log_call
from portal.messaging.content_check import BUILT_IN_TERMS
from portal.messaging.dispatch import dispatch_due
from portal.messaging.models import (
    CallOutcome,
    EmergencyContact,
    Message,
    MessageTemplate,
    TemplateVersion,
)
from portal.messaging.purposes import PURPOSES
from portal.messaging.unsubscribe.services import unsubscribe_token
from portal.timeutil import portfolio_today, utcnow
from tests.conftest import ON_POSTGRES, Account, _truncate_all, base_config, login

LOCALES = ("zh_CN", "en")
ROLES = {
    Role.BORROWER: "borrower@demo.test",
    Role.AGENT: "agent@demo.test",
    Role.COLLECTOR: "collector@demo.test",
    Role.ADMIN: "admin@demo.test",
}
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
# An English word of three letters or more (not an acronym): never in a Chinese page.
ENGLISH_WORD = re.compile(r"(?<![A-Za-z])[A-Za-z][a-z]{2,}(?![A-Za-z])")
# Words a Chinese page may show as they are: the product's name, the language switcher.
ALLOWED_LATIN = {"Settle", "English", "App"}  # "钱包 App": the wallet app, as users say it
# Time zones are shown by their IANA names (Asia/Shanghai) in both languages.
TIME_ZONE = re.compile(r"\b[A-Z][a-z]+/[A-Za-z_]+\b")


def _enum_values() -> set[str]:
    import portal.auth.models
    import portal.collections.models
    import portal.loans.models
    import portal.messaging.guard
    import portal.messaging.models

    values: set[str] = set()
    for module in (
        portal.auth.models,
        portal.collections.models,
        portal.loans.models,
        portal.messaging.guard,
        portal.messaging.models,
    ):
        for thing in vars(module).values():
            if isinstance(thing, type) and issubclass(thing, enum.Enum) and thing is not enum.Enum:
                values.update(str(member.value) for member in thing)
    return values


def raw_codes() -> set[str]:
    """Every code the models and rules use, as stored: enum values, rule codes, purposes."""
    codes = _enum_values()
    codes.update(collections_labels.RULE_LABELS)
    codes.update(collections_labels.TRANSITION_LABELS)
    codes.update(messaging_labels.CATEGORY_LABELS)
    codes.update(messaging_labels.RELATIONSHIP_LABELS)
    codes.update(collections_labels.EVIDENCE_ITEM_LABELS)
    codes.update(PURPOSES)
    codes.update(collections_labels.AGENCY_STATUS_LABELS)
    codes.update(messaging_labels.RULEBOOK_NAMES)
    codes.update(("zh_CN", "en"))  # locales
    return {code for code in codes if re.fullmatch(r"[a-z][a-z0-9_]*|[A-Z]{2}(_[A-Z_]+)?", code)}


# Page text --------------------------------------------------------------------------------------


@dataclass
class Visible(HTMLParser):
    """The text a reader sees: text nodes, titles, placeholders, labels and chart data."""

    nodes: list[str] = field(default_factory=list)
    _skip: int = 0
    _json: bool = False

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in ("script", "style", "code", "pre", "kbd"):
            self._skip += 1
            self._json = tag == "script" and attributes.get("type") == "application/json"
        for name in ("title", "placeholder", "aria-label", "alt"):
            if attributes.get(name):
                self.nodes.append(str(attributes[name]))
        if tag == "input" and attributes.get("type") in ("submit", "button"):
            self.nodes.append(str(attributes.get("value") or ""))

    def handle_endtag(self, tag):
        if tag in ("script", "style", "code", "pre", "kbd") and self._skip:
            self._skip -= 1
            self._json = False

    def handle_data(self, data):
        if self._json:
            self.nodes.extend(_strings(json.loads(data)))
        elif not self._skip and data.strip():
            self.nodes.append(data)


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        # only what a chart or script shows: its labels and titles, not URLs or codes
        return [
            s
            for key, item in value.items()
            if key in ("label", "labels", "title", "datasets")
            for s in _strings(item)
        ]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def visible_text(html: str) -> list[str]:
    parser = Visible()
    parser.feed(html)
    return [re.sub(r"\s+", " ", node).strip() for node in parser.nodes if node.strip()]


# The demo --------------------------------------------------------------------------------------


@dataclass
class Demo:
    app: object
    user_data: list[str]  # names, addresses, stored message and template texts: shown as written
    values: dict[str, dict[str, object]]  # per role: the URL values for <converters>


def _user_data() -> list[str]:
    """Texts people typed or content the lender wrote (templates, notices, word lists)."""
    texts: list[str] = []
    for column in (
        User.name,
        User.email,
        EmergencyContact.name,
        Message.subject,
        Message.body_text,
        Message.recipient,
        TemplateVersion.subject,
        TemplateVersion.body_text,
        LegalRequest.reason,
        CaseNote.body,
        AgencyPlacement.agency,
    ):
        texts.extend(value for value in db.session.scalars(select(column).distinct()) if value)
    texts.extend(
        term for terms in BUILT_IN_TERMS.values() for words in terms.values() for term in words
    )
    texts.extend(LANGUAGE_NAMES.values())  # the language switcher names each language in itself
    return sorted({re.sub(r"\s+", " ", text).strip() for text in texts}, key=len, reverse=True)


def _build_demo(app) -> Demo:
    with app.app_context():
        now = utcnow()
        today = portfolio_today(now)
        seed(today, borrowers=30)
        db.session.commit()
        dispatch_due(utcnow, channels={Channel.PORTAL})
        run_collections(today, now=now, contacts=True)
        dispatch_due(utcnow, channels={Channel.PORTAL})
        users = {
            role: db.session.scalar(select(User).where(User.email == email))
            for role, email in ROLES.items()
        }
        borrower, collector, admin = users[Role.BORROWER], users[Role.COLLECTOR], users[Role.ADMIN]
        cases = db.session.scalars(select(CollectionCase).order_by(CollectionCase.id)).all()
        stage_3 = next(case for case in cases if case.stage == 3)
        # The collector works every case here, so every case page is theirs to see.
        db.session.execute(update(CollectionCase).values(assigned_to=collector.id))
        db.session.commit()
        log_call(
            stage_3.borrower_id,
            outcome=CallOutcome.NO_ANSWER,
            # noon on the borrower's clock, inside the contact hours whenever the test runs
            now=datetime.combine(today, time(4), tzinfo=UTC),
            actor_id=collector.id,
            loan_id=stage_3.loan_id,
            note="",
        )
        db.session.commit()
        admin_actor = Actor(admin.id, Role.ADMIN, admin.name)
        legal = pending_request(stage_3.id) or request_legal(  # the demo may have asked already
            stage_3.id, reason="No payment for months.", actor=admin_actor, now=now, ip_address=None
        )
        db.session.commit()
        decide_request(
            legal.id, approve=True, note="OK", actor=admin_actor, now=now, ip_address=None
        )
        db.session.commit()
        place_with_agency(
            stage_3.id, agency="Acme Recovery", actor=admin_actor, now=now, ip_address=None
        )
        db.session.commit()
        loan_id = db.session.scalar(
            select(Message.loan_id).where(
                Message.borrower_id == borrower.id, Message.loan_id.is_not(None)
            )
        )
        notice_id = db.session.scalar(
            select(Message.id).where(
                Message.borrower_id == borrower.id, Message.channel == Channel.PORTAL
            )
        )
        template = db.session.scalar(select(MessageTemplate).order_by(MessageTemplate.id))
        staff_values: dict[str, object] = {
            "case_id": stage_3.id,
            "purpose_code": template.purpose,
            "channel": template.channel.value,
            "locale": template.locale,
        }
        values = {
            Role.BORROWER.value: {
                "loan_id": loan_id,
                "notice_id": notice_id,
                "token": unsubscribe_token(borrower.id, "email"),
            },
            Role.AGENT.value: staff_values,
            Role.COLLECTOR.value: staff_values,
            Role.ADMIN.value: staff_values,
        }
        return Demo(app, _user_data(), values)


@pytest.fixture(scope="module")
def demo(migrated_database, tmp_path_factory):
    if ON_POSTGRES:
        url = migrated_database
    else:
        copy = tmp_path_factory.mktemp("pages") / "demo.db"
        shutil.copy(migrated_database, copy)
        url = f"sqlite:///{copy}"
    application = create_app(base_config(url))
    limiter.reset()
    yield _build_demo(application)
    with application.app_context():
        db.session.remove()
    if ON_POSTGRES:
        _truncate_all(application)
    with application.app_context():
        db.engine.dispose()


def _pages(app, values: dict[str, object]) -> list[str]:
    """Every GET URL of the app whose parameters we can fill, HTML and CSV alike."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint in ("static", "health.healthz"):
            continue
        if any(name not in values for name in rule.arguments):
            continue
        with app.test_request_context():
            from flask import url_for

            urls.append(url_for(rule.endpoint, **{name: values[name] for name in rule.arguments}))
    return sorted(urls)


def _problems(texts: list[str], locale: str, user_data: list[str], codes: set[str]) -> list[str]:
    found = []
    for original in texts:
        shown = original.rstrip(".…")  # a preview cut short
        if any(shown in blob for blob in user_data):
            continue
        text = original
        for value in user_data:
            if value in text:
                text = text.replace(value, " ")
        text = re.sub(r"https?://\S+|\S+@\S+|\{\{.*?\}\}|[A-Z]{0,3}[¥$€£][\d.,]+", " ", text)
        text = re.sub(r"[(（][A-Z][A-Z_]+[)）]", " ", text)  # a code named beside its words
        text = TIME_ZONE.sub(" ", text)
        words = re.findall(r"[A-Za-z][A-Za-z0-9_]*", text)
        if words and all(word in codes for word in words):
            found.append(f"raw code: {original!r}")
        elif any("_" in word and word in codes for word in words):
            found.append(f"raw code: {original!r}")
        elif locale == "en" and CJK.search(text):
            found.append(f"Chinese in English: {original!r}")
        elif locale == "zh_CN":
            english = [w for w in ENGLISH_WORD.findall(text) if w not in ALLOWED_LATIN]
            if english:
                found.append(f"English in Chinese: {original!r}")
    return found


@pytest.mark.parametrize("role", [role.value for role in ROLES])
def test_every_page_speaks_the_readers_language_with_no_raw_code(demo, role):
    """Each page the role can reach, in both languages: no raw code, no text of the other
    language outside user data; CSV headers likewise."""
    app = demo.app
    codes = raw_codes()
    client = app.test_client()
    email = ROLES[Role(role)]
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == email))
    login(client, Account(user_id, email, DEMO_PASSWORD, Role(role)))
    problems: list[str] = []
    rendered = 0
    for locale in LOCALES:
        with app.app_context():
            db.session.execute(update(User).where(User.id == user_id).values(locale=locale))
            db.session.commit()
        for url in _pages(app, demo.values[role]):
            response = client.get(url)
            if response.status_code != 200:
                continue  # not this role's page (403, a redirect to sign in) or nothing to show
            rendered += 1
            if response.mimetype == "text/html":
                texts = visible_text(response.get_data(as_text=True))
            elif response.mimetype == "text/csv":
                texts = next(
                    csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")))
                )
            else:
                continue
            problems.extend(
                f"{locale} {url}: {problem}"
                for problem in _problems(texts, locale, demo.user_data, codes)
            )
    assert rendered >= 2 * 4
    assert problems == [], "\n".join(problems)
