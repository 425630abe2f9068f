"""Writing to a complaint's thread and moving its status: the two steps every action shares."""

from __future__ import annotations

from datetime import datetime, timedelta

from portal.audit.services import record as audit
from portal.complaints.lifecycle import Action, next_status
from portal.complaints.models import Complaint, ComplaintEvent, EventKind
from portal.extensions import db

BODY_MAX = 5000


def add_event(
    complaint: Complaint,
    kind: EventKind,
    *,
    public: bool,
    now: datetime,
    actor_id: int | None,
    body: str = "",
    from_status: str | None = None,
    to_status: str | None = None,
) -> ComplaintEvent:
    event = ComplaintEvent(
        complaint_id=complaint.id,
        kind=kind,
        public=public,
        body=body,
        from_status=from_status,
        to_status=to_status,
        actor_id=actor_id,
        created_at=now,
    )
    complaint.events.append(event)  # the thread in memory stays whole for the caller
    db.session.flush()
    return event


def move(
    complaint: Complaint,
    action: Action,
    *,
    now: datetime,
    actor_id: int | None,
    ip_address: str | None,
    body: str = "",
    reopen_window: timedelta = timedelta(days=30),
) -> ComplaintEvent:
    """Apply ``action`` (TransitionRefused if the table forbids it): the new status, a public
    status event carrying ``body``, and an audit entry."""
    source = complaint.status
    target = next_status(
        source, action, resolved_at=complaint.resolved_at, now=now, reopen_window=reopen_window
    )
    complaint.status = target
    event = add_event(
        complaint,
        EventKind.STATUS,
        public=True,
        now=now,
        actor_id=actor_id,
        body=body,
        from_status=source.value,
        to_status=target.value,
    )
    audit(
        f"complaint.{action.value}",
        now=now,
        actor_id=actor_id,
        object_type="complaint",
        object_id=complaint.id,
        details={"reference": complaint.reference, "from": source.value, "to": target.value},
        ip_address=ip_address,
    )
    return event
