"""Putting messages in the outbox: render, ask the guard, write the row, record the decision.

``enqueue`` runs in the caller's transaction, so a message exists exactly when the decision to
send it was committed. Workers (portal/messaging/dispatch.py) deliver it later and ask the guard
again at that moment: there is no path from here to a channel that skips the guard.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.auth.models import Channel
from portal.domain import NotFound
from portal.extensions import db
from portal.messaging.channels.sms import OPT_OUT_LINES, needs_opt_out
from portal.messaging.content_check import find_violations
from portal.messaging.facts import BorrowerContext, load_borrower_contexts
from portal.messaging.guard import Decision, Outcome, decide
from portal.messaging.models import (
    ContactDecisionRecord,
    Message,
    MessageStatus,
    TemplateVersion,
)
from portal.messaging.purposes import Purpose, purpose
from portal.messaging.renderings import Variables, add_renderings, variables_in
from portal.messaging.templates import Rendered, TemplateMissing, latest_version, render


class BorrowerNotFound(NotFound):
    message = _l("We could not find that borrower.")


def enqueue(
    *,
    borrower_id: int,
    purpose_code: str,
    channel: Channel,
    variables: Variables,
    now: datetime,
    loan_id: int | None = None,
    actor_id: int | None = None,
    dedupe_key: str | None = None,
    emergency_contact_id: int | None = None,
) -> Message:
    """Write one message to the outbox: queued, deferred (queued with a later ``not_before``)
    or blocked with the guard's rule. Idempotent on ``dedupe_key``. Flushes; caller commits.

    ``variables`` may be a function of the locale (money and dates formatted per language): a
    portal notice is also rendered in the other languages (``renderings.add_renderings``).

    Raises BorrowerNotFound, TemplateMissing, RenderFailed (a variable missing), NotFound (an
    emergency contact that is not the borrower's, or was removed).
    """
    if dedupe_key is not None:
        existing = db.session.scalar(select(Message).where(Message.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    borrower = load_borrower_contexts({borrower_id}, now).get(borrower_id)
    if borrower is None:
        raise BorrowerNotFound()
    spec = purpose(purpose_code)
    locale = borrower.locale or current_app.config["DEFAULT_LOCALE"]
    common = _common_variables(borrower)
    version, rendered = _rendered(
        purpose_code, channel, locale, {**common, **variables_in(variables, locale)}
    )
    body_text = rendered.body_text
    if needs_opt_out(channel, spec.kind) and OPT_OUT_LINES[locale] not in body_text:
        body_text = f"{body_text}\n{OPT_OUT_LINES[locale]}"  # every text carries its way out
    message = Message(
        idempotency_key=uuid.uuid4().hex,
        dedupe_key=dedupe_key,
        borrower_id=borrower_id,
        loan_id=loan_id,
        emergency_contact_id=emergency_contact_id,
        purpose=purpose_code,
        kind=spec.kind,
        channel=channel,
        locale=locale,
        template_version_id=version.id,
        recipient=_recipient(borrower, channel, emergency_contact_id),
        subject=rendered.subject,
        body_text=body_text,
        body_html=rendered.body_html,
        status=MessageStatus.QUEUED,
        not_before=now,
        attempts=0,
        created_by=actor_id,
        created_at=now,
    )
    decision = _decide(message, spec, borrower, now)
    apply_decision(message, decision)
    db.session.add(message)
    db.session.flush()
    record_decision(decision_values(message, decision, borrower, now, actor_id))
    add_renderings(message, variables, common)
    return message


def _common_variables(borrower: BorrowerContext) -> dict[str, str]:
    """What every template may use, whatever its purpose."""
    return {"borrower_name": borrower.name, "portal_url": current_app.config["PUBLIC_URL"]}


def _rendered(
    purpose_code: str, channel: Channel, locale: str, values: dict[str, str]
) -> tuple[TemplateVersion, Rendered]:
    """The newest template for the message and its rendering; TemplateMissing if none."""
    version = latest_version(purpose_code, channel, locale)
    if version is None:
        raise TemplateMissing()
    return version, render(version, values)


def _recipient(
    borrower: BorrowerContext, channel: Channel, emergency_contact_id: int | None
) -> str | None:
    """The borrower's address on ``channel``, or the number of one of their own contacts."""
    if emergency_contact_id is None:
        return borrower.address_for(channel)
    # Only the borrower's own contacts, and none they removed.
    recipient = borrower.emergency_contact_phone(emergency_contact_id)
    if recipient is None:
        raise NotFound()
    return recipient


def _decide(message: Message, spec: Purpose, borrower: BorrowerContext, now: datetime) -> Decision:
    """Blocked for prohibited wording; otherwise what the contact-rules guard says."""
    violations = find_violations(
        f"{message.subject} {message.body_text}", message.locale, third_party=spec.third_party
    )
    if violations:
        return Decision(Outcome.BLOCK, "content_check")
    return guard_decision(message, borrower, now)


def guard_decision(message: Message, borrower: BorrowerContext, now: datetime) -> Decision:
    """What the contact-rules guard says about sending ``message`` now (at enqueue and at
    dispatch alike)."""
    return decide(
        kind=message.kind,
        channel=message.channel,
        now=now,
        facts=borrower.facts(
            message.channel,
            now,
            emergency_contact_id=message.emergency_contact_id,
            loan_id=message.loan_id,
        ),
        rules=borrower.rulebook,
    )


def apply_decision(message: Message, decision: Decision) -> None:
    """Set a message's status from a guard decision (send and defer both stay queued)."""
    if decision.outcome is Outcome.BLOCK:
        message.status = MessageStatus.BLOCKED
        message.blocked_rule = decision.rule
    else:
        message.status = MessageStatus.QUEUED
        message.not_before = decision.not_before or message.not_before


def decision_values(
    message: Message | None,
    decision: Decision,
    borrower: BorrowerContext,
    now: datetime,
    actor_id: int | None,
    *,
    channel: Channel | None = None,
    kind=None,
) -> dict:
    """The contact_decision row for a guard decision, with its rule and the rulebook version."""
    return {
        "borrower_id": borrower.borrower_id,
        "message_id": message.id if message is not None else None,
        "channel": channel or message.channel,  # type: ignore[union-attr]
        "kind": kind or message.kind,  # type: ignore[union-attr]
        "outcome": decision.outcome.value,
        "rule": decision.rule,
        "rulebook": borrower.rulebook.code,
        "rulebook_version": borrower.rulebook.version,
        "not_before": decision.not_before,
        "decided_at": now,
        "decided_by": actor_id,
    }


def record_decision(values: dict) -> ContactDecisionRecord:
    """Keep a guard decision (the row ``decision_values`` makes) for the record. Adds; no flush."""
    row = ContactDecisionRecord(**values)
    db.session.add(row)
    return row
