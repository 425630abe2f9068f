"""A borrower whose loan goes to an outside agency is told so, and by whom, in their account."""

from __future__ import annotations

from sqlalchemy import select

from portal.auth.models import Channel
from portal.extensions import db
from portal.messaging.dispatch import dispatch_due
from portal.messaging.models import ContactHold, ContactKind, HoldReason, Message, MessageStatus
from portal.timeutil import utcnow
from tests.collections.legal.conftest import approved_case, post, signed_in
from tests.conftest import page_text

AGENCY = "Prudent Recoveries Ltd"


def _notices(purpose: str) -> list[Message]:
    db.session.expire_all()
    return list(db.session.scalars(select(Message).where(Message.purpose == purpose)))


def test_placement_tells_the_borrower_even_on_hold(app, make_user, make_loan):
    """A required portal notice names the agency, goes out despite an open dispute, and the
    borrower's contact settings say with whom the loan is placed."""
    case, admin_client, _admin = approved_case(app, make_user, make_loan)
    with app.app_context():
        db.session.add(
            ContactHold(borrower_id=case.borrower.id, reason=HoldReason.DISPUTE, opened_at=utcnow())
        )
        db.session.commit()

    response = post(admin_client, case.url("placement"), {"agency": AGENCY}, form_page=case.url())

    assert response.status_code == 303
    with app.app_context():
        [notice] = _notices("agency_placed")
        assert (notice.channel, notice.kind, notice.status) == (
            Channel.PORTAL,
            ContactKind.REQUIRED_NOTICE,
            MessageStatus.QUEUED,
        )
        assert AGENCY in notice.body_text
        dispatch_due(utcnow, channels={Channel.PORTAL})
    borrower = signed_in(app, case.borrower)
    assert "Your loan has been placed with a collection agency" in page_text(
        borrower.get("/notices/")
    )
    settings = page_text(borrower.get("/settings/contact"))
    assert f"was placed with {AGENCY} on" in settings
    assert "taken back" not in settings


def test_recall_tells_the_borrower_too(app, make_user, make_loan):
    """Taking the case back queues a second notice and the settings page says so."""
    case, admin_client, _admin = approved_case(app, make_user, make_loan)
    post(admin_client, case.url("placement"), {"agency": AGENCY}, form_page=case.url())

    response = post(admin_client, case.url("recall"), {"note": ""}, form_page=case.url())

    assert response.status_code == 303
    with app.app_context():
        [notice] = _notices("agency_recalled")
        assert notice.kind is ContactKind.REQUIRED_NOTICE
        assert f"no longer handled by {AGENCY}" in notice.body_text
    settings = page_text(signed_in(app, case.borrower).get("/settings/contact"))
    assert "taken back by Settle on" in settings


def test_borrower_without_placement_sees_no_agency(app, make_user, make_loan):
    """No placement: the settings page names no agency."""
    case, _admin_client, _admin = approved_case(app, make_user, make_loan)
    settings = signed_in(app, case.borrower).get("/settings/contact").get_data(as_text=True)
    assert 'data-testid="agency-placements"' not in settings
