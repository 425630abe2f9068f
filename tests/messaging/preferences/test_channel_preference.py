"""set_channel_preference: opting in and out of a channel, and when nothing is to be done."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, select

from portal.audit.models import AuditEvent
from portal.auth.models import Channel, ContactPreference, Role
from portal.extensions import db
from portal.messaging.preferences.services import set_channel_preference

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


def _without_preference_rows(app, make_user) -> int:
    """A borrower with no preference row at all (as rows imported before preferences existed)."""
    borrower_id = make_user(Role.BORROWER).id
    with app.app_context():
        db.session.execute(
            delete(ContactPreference).where(ContactPreference.borrower_id == borrower_id)
        )
        db.session.commit()
    return borrower_id


def _state(borrower_id: int) -> tuple[list[tuple[Channel, bool]], list[str]]:
    rows = db.session.execute(
        select(ContactPreference.channel, ContactPreference.allowed).where(
            ContactPreference.borrower_id == borrower_id
        )
    ).all()
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.sequence)).all()
    return [tuple(row) for row in rows], list(actions)


def test_opting_in_without_a_row_changes_nothing(app, make_user):
    """No row already means allowed: no row is written, no opt-in audited, False returned."""
    borrower_id = _without_preference_rows(app, make_user)
    with app.app_context():
        changed = set_channel_preference(borrower_id, Channel.SMS, True, now=NOW, source="test")

        assert changed is False
        assert _state(borrower_id) == ([], [])


def test_opting_out_without_a_row_writes_one_and_audits_it(app, make_user):
    """The first opt-out creates the row (allowed False) and one contact.opt_out event."""
    borrower_id = _without_preference_rows(app, make_user)
    with app.app_context():
        changed = set_channel_preference(borrower_id, Channel.SMS, False, now=NOW, source="test")

        assert changed is True
        assert _state(borrower_id) == ([(Channel.SMS, False)], ["contact.opt_out"])


def test_opting_in_again_after_an_opt_out_flips_the_row(app, make_user):
    """Out, then in: the row is allowed again and both changes are audited."""
    borrower_id = _without_preference_rows(app, make_user)
    with app.app_context():
        set_channel_preference(borrower_id, Channel.SMS, False, now=NOW, source="test")
        changed = set_channel_preference(borrower_id, Channel.SMS, True, now=NOW, source="test")

        assert changed is True
        assert _state(borrower_id) == (
            [(Channel.SMS, True)],
            ["contact.opt_out", "contact.opt_in"],
        )
