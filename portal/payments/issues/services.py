"""Payment issues (amount mismatch, unknown payment, processor unreachable, booking failed):
listed for staff, counted for the staff home's alert, resolved by admins with a note."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.audit.services import record as audit
from portal.domain import DomainError, NotFound
from portal.extensions import db
from portal.payments.models import PaymentIssue

MAX_NOTE = 500
RECENTLY_RESOLVED = 20


class IssueNotFound(NotFound):
    message = _l("We could not find that payment issue.")


class IssueResolutionRefused(DomainError):
    status_code = 422


def open_issue_count() -> int:
    """How many payment issues wait for someone: the staff home's alert."""
    return (
        db.session.scalar(
            select(func.count()).select_from(PaymentIssue).where(PaymentIssue.resolved_at.is_(None))
        )
        or 0
    )


def open_issues() -> list[PaymentIssue]:
    """Unresolved issues, oldest first (the longest waiting on top)."""
    return list(
        db.session.scalars(
            select(PaymentIssue)
            .where(PaymentIssue.resolved_at.is_(None))
            .order_by(PaymentIssue.created_at, PaymentIssue.id)
        )
    )


def recently_resolved() -> list[PaymentIssue]:
    return list(
        db.session.scalars(
            select(PaymentIssue)
            .where(PaymentIssue.resolved_at.is_not(None))
            .order_by(PaymentIssue.resolved_at.desc(), PaymentIssue.id.desc())
            .limit(RECENTLY_RESOLVED)
        )
    )


def resolve_issue(
    issue_id: int, *, note: str, actor_id: int, now: datetime, ip_address: str | None = None
) -> PaymentIssue:
    """Mark an open issue resolved with what was done (``note``), audited as
    ``payment.issue_resolved``. Raises IssueNotFound, IssueResolutionRefused (no note, too long,
    already resolved). Locks the issue row; flushes only."""
    note = (note or "").strip()
    if not note:
        raise IssueResolutionRefused(_l("Say what was done about it."))
    if len(note) > MAX_NOTE:
        raise IssueResolutionRefused(_l("A note has at most 500 characters."))
    issue = db.session.scalar(
        select(PaymentIssue).where(PaymentIssue.id == issue_id).with_for_update()
    )
    if issue is None:
        raise IssueNotFound()
    if issue.resolved_at is not None:
        raise IssueResolutionRefused(_l("This issue was already resolved."))
    issue.resolved_at = now
    issue.resolved_by = actor_id
    issue.resolution = note
    db.session.flush()
    audit(
        "payment.issue_resolved",
        now=now,
        actor_id=actor_id,
        object_type="payment_issue",
        object_id=issue.id,
        details={"kind": issue.kind.value, "note": note},
        ip_address=ip_address,
    )
    return issue
