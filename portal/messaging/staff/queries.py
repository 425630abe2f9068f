"""What the staff messaging pages read: template versions, added terms, rulebook history, the
outbox. Each function issues a fixed number of queries, whatever the number of rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, func, select

from portal.auth.models import Channel, User
from portal.extensions import db
from portal.messaging.models import (
    Message,
    MessageStatus,
    MessageTemplate,
    ProhibitedTerm,
    Rulebook,
    TemplateVersion,
)
from portal.messaging.templates import versions_of

PAGE_SIZE = 50


@dataclass(frozen=True)
class VersionInfo:
    """One template version, without its text: number, author's name, time."""

    id: int
    version: int
    created_at: datetime
    author: str | None


def template_grid() -> dict[tuple[str, str, str], VersionInfo]:
    """The newest version of each template, keyed by (purpose, channel value, locale). One query."""
    newest = (
        select(
            TemplateVersion.template_id,
            func.max(TemplateVersion.version).label("version"),
        )
        .group_by(TemplateVersion.template_id)
        .subquery()
    )
    rows = db.session.execute(
        select(
            MessageTemplate.purpose,
            MessageTemplate.channel,
            MessageTemplate.locale,
            TemplateVersion.id,
            TemplateVersion.version,
            TemplateVersion.created_at,
            User.name,
        )
        .join(TemplateVersion, TemplateVersion.template_id == MessageTemplate.id)
        .join(
            newest,
            and_(
                newest.c.template_id == TemplateVersion.template_id,
                newest.c.version == TemplateVersion.version,
            ),
        )
        .outerjoin(User, User.id == TemplateVersion.created_by)
    ).all()
    return {
        (row.purpose, row.channel.value, row.locale): VersionInfo(
            row.id, row.version, row.created_at, row.name
        )
        for row in rows
    }


def template_history(purpose_code: str, channel: Channel, locale: str) -> list[VersionInfo]:
    """Every version of one template, newest first, with its author's name. One query."""
    rows = db.session.execute(
        versions_of(purpose_code, channel, locale)
        .with_only_columns(
            TemplateVersion.id, TemplateVersion.version, TemplateVersion.created_at, User.name
        )
        .outerjoin(User, User.id == TemplateVersion.created_by)
        .order_by(TemplateVersion.version.desc())
    ).all()
    return [VersionInfo(row.id, row.version, row.created_at, row.name) for row in rows]


def template_version(
    purpose_code: str, channel: Channel, locale: str, number: int
) -> TemplateVersion | None:
    """Version ``number`` of one template, or None if it has no such version."""
    return db.session.scalar(
        versions_of(purpose_code, channel, locale).where(TemplateVersion.version == number)
    )


@dataclass(frozen=True)
class AddedTerm:
    locale: str
    category: str
    term: str
    created_at: datetime
    author: str | None


def added_terms() -> list[AddedTerm]:
    """Admin-added prohibited terms of every locale, by locale, category and term. One query."""
    rows = db.session.execute(
        select(
            ProhibitedTerm.locale,
            ProhibitedTerm.category,
            ProhibitedTerm.term,
            ProhibitedTerm.created_at,
            User.name,
        )
        .outerjoin(User, User.id == ProhibitedTerm.created_by)
        .order_by(ProhibitedTerm.locale, ProhibitedTerm.category, ProhibitedTerm.term)
    ).all()
    return [AddedTerm(r.locale, r.category, r.term, r.created_at, r.name) for r in rows]


@dataclass(frozen=True)
class RulebookVersionInfo:
    code: str
    version: int
    created_at: datetime
    author: str | None
    settings: dict


def rulebook_history() -> dict[str, list[RulebookVersionInfo]]:
    """Saved versions of every rulebook, newest first, keyed by code. One query."""
    rows = db.session.execute(
        select(Rulebook, User.name)
        .outerjoin(User, User.id == Rulebook.created_by)
        .order_by(Rulebook.code, Rulebook.version.desc())
    ).all()
    history: dict[str, list[RulebookVersionInfo]] = {}
    for rulebook, author in rows:
        history.setdefault(rulebook.code, []).append(
            RulebookVersionInfo(
                rulebook.code, rulebook.version, rulebook.created_at, author, rulebook.settings
            )
        )
    return history


@dataclass(frozen=True)
class MessageFilters:
    """Exact-match filters of the message log; None means any."""

    status: MessageStatus | None = None
    channel: Channel | None = None
    purpose: str | None = None


@dataclass(frozen=True)
class MessagePage:
    rows: list  # Row objects: see message_page
    total: int
    page: int
    pages: int


def _filtered(statement: Select, filters: MessageFilters) -> Select:
    if filters.status is not None:
        statement = statement.where(Message.status == filters.status)
    if filters.channel is not None:
        statement = statement.where(Message.channel == filters.channel)
    if filters.purpose is not None:
        statement = statement.where(Message.purpose == filters.purpose)
    return statement


def message_page(filters: MessageFilters, page: int, per_page: int = PAGE_SIZE) -> MessagePage:
    """One page of the outbox, newest first. Two queries (count, rows) whatever the page size.

    Rows have: id, created_at, borrower_name, purpose, channel, status, blocked_rule,
    cancel_reason, last_error, not_before, attempts, template_version (the version number, or None).
    """
    total = db.session.scalar(_filtered(select(func.count(Message.id)), filters)) or 0
    pages = max(1, -(-total // per_page))
    rows = db.session.execute(
        _filtered(
            select(
                Message.id,
                Message.created_at,
                User.name.label("borrower_name"),
                Message.purpose,
                Message.channel,
                Message.status,
                Message.blocked_rule,
                Message.cancel_reason,
                Message.last_error,
                Message.not_before,
                Message.attempts,
                TemplateVersion.version.label("template_version"),
            )
            .join(User, User.id == Message.borrower_id)
            .outerjoin(TemplateVersion, TemplateVersion.id == Message.template_version_id),
            filters,
        )
        .order_by(Message.created_at.desc(), Message.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return MessagePage(list(rows), total, page, pages)


def status_counts(since: datetime) -> dict[str, int]:
    """How many messages of each status were created at or after ``since``. One query."""
    rows = db.session.execute(
        select(Message.status, func.count(Message.id))
        .where(Message.created_at >= since)
        .group_by(Message.status)
    ).all()
    return {status.value: count for status, count in rows}
