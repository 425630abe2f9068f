"""The lawyer letter: written once per approval from the ``lawyer_letter`` template, queued to the
borrower, and shown as a formal letter in HTML and PDF.

The letter *is* its outbox messages: ``produce_letter`` renders the template in the borrower's
language and queues it on the portal and by email (the contact-rules guard decides each), with a
dedupe key per approval and channel. The HTML and PDF are laid out from the portal message's
stored text, so they always show exactly what was sent, with the date it was written (the
deadline in it does not move when the letter is opened later).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date
from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import select

from portal.audit.services import record as audit
from portal.auth.models import Channel
from portal.collections.cases.access import CaseNotOpen, authorized_case
from portal.collections.legal.access import Actor
from portal.collections.legal.errors import (
    LetterAlreadyProduced,
    NoLetter,
    NotApproved,
    NotOverdue,
)
from portal.collections.models import CaseStatus, CollectionCase, LegalRequest, LegalStatus
from portal.extensions import db
from portal.loans.models import Loan
from portal.loans.services import loan_position
from portal.messaging.models import Message
from portal.messaging.outbox import enqueue
from portal.messaging.templates import TemplateMissing, latest_version, render
from portal.money import format_money
from portal.pii import mask_email, mask_phone
from portal.timeutil import local_today

LETTER_PURPOSE = "lawyer_letter"
LETTER_CHANNELS = (Channel.PORTAL, Channel.EMAIL)
DEADLINE_DAYS = 14


@dataclass(frozen=True)
class LetterDocument:
    """What the letter layout shows; ``paragraphs`` are lists of lines."""

    locale: str
    letter_date: date
    borrower_name: str
    masked_email: str
    masked_phone: str
    loan_reference: str
    letter_reference: str
    subject: str
    paragraphs: tuple[tuple[str, ...], ...]
    deliveries: tuple[tuple[str, str], ...]  # (channel, status) of each queued copy


def approved_request(case: CollectionCase) -> LegalRequest | None:
    return db.session.scalar(
        select(LegalRequest)
        .where(LegalRequest.case_id == case.id, LegalRequest.decision == "approved")
        .order_by(LegalRequest.id.desc())
        .limit(1)
    )


def _loan(case: CollectionCase) -> Loan:
    loan = db.session.get(Loan, case.loan_id)
    if loan is None:  # a foreign key makes this impossible
        raise LookupError(f"case {case.id} has lost its loan")
    return loan


def _dedupe_key(request_id: int, channel: Channel) -> str:
    return f"{LETTER_PURPOSE}:{request_id}:{channel.value}"


def letter_messages(request_id: int) -> list[Message]:
    """The queued copies of an approval's letter, portal first (empty: none produced)."""
    keys = [_dedupe_key(request_id, channel) for channel in LETTER_CHANNELS]
    rows = db.session.scalars(select(Message).where(Message.dedupe_key.in_(keys))).all()
    return sorted(rows, key=lambda m: keys.index(m.dedupe_key or ""))


def produce_letter(
    case_id: int, *, actor: Actor, now: datetime, ip_address: str | None
) -> list[Message]:
    """Write the letter for an approved case and queue it on the portal and by email.

    The deadline is the borrower's local today plus 14 days, in the borrower's language. Audits
    ``legal.letter_produced``. Raises CaseNotFound, NotApproved, CaseNotOpen, NotOverdue,
    LetterAlreadyProduced, TemplateMissing or RenderFailed before queuing anything. Flushes.
    """
    case = authorized_case(case_id, actor, lock=True)
    request = approved_request(case)
    if request is None or case.legal_status is not LegalStatus.APPROVED:
        raise NotApproved()
    if case.status is not CaseStatus.OPEN:
        raise CaseNotOpen()
    if letter_messages(request.id):
        raise LetterAlreadyProduced()
    loan = _loan(case)
    borrower = loan.borrower.user
    locale = borrower.locale or current_app.config["DEFAULT_LOCALE"]
    today = local_today(borrower.timezone, now)
    position = loan_position(loan, today)
    if not position.is_overdue:
        raise NotOverdue()
    deadline = today + timedelta(days=DEADLINE_DAYS)

    def variables(locale: str) -> dict[str, str]:  # each rendering formats in its language
        return {
            "loan_reference": loan.reference,
            "amount_overdue": format_money(position.overdue, loan.currency, locale),
            "days_past_due": str(position.days_past_due),
            "deadline_date": format_date(deadline, "long", locale=locale),
        }

    version = latest_version(LETTER_PURPOSE, Channel.PORTAL, locale)
    if version is None:
        raise TemplateMissing()
    # The letter itself: a template that cannot be filled fails here, before anything is queued.
    render(
        version,
        {
            "borrower_name": borrower.name,
            "portal_url": current_app.config["PUBLIC_URL"],
            **variables(locale),
        },
    )
    messages = [
        enqueue(
            borrower_id=loan.borrower_id,
            purpose_code=LETTER_PURPOSE,
            channel=channel,
            variables=variables,
            now=now,
            loan_id=loan.id,
            actor_id=actor.id,
            dedupe_key=_dedupe_key(request.id, channel),
        )
        for channel in LETTER_CHANNELS
    ]
    audit(
        "legal.letter_produced",
        now=now,
        actor_id=actor.id,
        object_type="legal_request",
        object_id=request.id,
        details={
            "case_id": case.id,
            "loan_id": loan.id,
            "template_version_id": version.id,
            "deadline_date": deadline.isoformat(),
            "messages": [
                {"id": m.id, "channel": m.channel.value, "status": m.status.value} for m in messages
            ],
        },
        ip_address=ip_address,
    )
    return messages


def letter_for_case(case: CollectionCase) -> LetterDocument | None:
    """The case's letter as a document, or None if none was produced."""
    request = approved_request(case)
    messages = letter_messages(request.id) if request else []
    if request is None or not messages:
        return None
    letter = messages[0]
    loan = _loan(case)
    borrower = loan.borrower.user
    paragraphs = tuple(
        tuple(line.strip() for line in block.splitlines() if line.strip())
        for block in letter.body_text.split("\n\n")
        if block.strip()
    )
    return LetterDocument(
        locale=letter.locale,
        letter_date=letter.created_at.astimezone(ZoneInfo(borrower.timezone)).date(),
        borrower_name=borrower.name,
        masked_email=mask_email(borrower.email),
        masked_phone=mask_phone(loan.borrower.phone),
        loan_reference=loan.reference,
        letter_reference=f"LL-{request.id:06d}",
        subject=letter.subject,
        paragraphs=paragraphs,
        deliveries=tuple((m.channel.value, m.status.value) for m in messages),
    )


def letter_document(case_id: int, *, actor: Actor) -> LetterDocument:
    """The letter of a case ``actor`` may see; CaseNotFound or NoLetter otherwise."""
    document = letter_for_case(authorized_case(case_id, actor))
    if document is None:
        raise NoLetter()
    return document


def render_letter_html(document: LetterDocument) -> str:
    """The letter page, in the letter's language whatever the reader's."""
    with force_locale(document.locale):
        return render_template("documents/lawyer_letter.html", letter=document)


def render_letter_pdf(document: LetterDocument) -> bytes:
    """The letter as PDF (WeasyPrint). Nothing is fetched: the page has no external resources,
    and the URL fetcher refuses every protocol in case a future template adds one."""
    from weasyprint import HTML  # imported on use: it loads Pango, which takes a moment
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols=frozenset())
    return HTML(string=render_letter_html(document), url_fetcher=fetcher).write_pdf()
