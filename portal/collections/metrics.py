"""The definitions of collections' metrics, one home each: what counts as a contact.

A borrower counts as **contacted** by a contact that reached them, as the channel confirms it:

- a portal notice that is visible in the portal (status SENT or DELIVERED);
- an email the SMTP server accepted (SENT or DELIVERED);
- a text message the provider reported delivered (DELIVERED; accepted by the provider is not
  enough, a text can still fail to arrive);
- a call in which the collector reached the borrower (outcome connected, refused, or a promise
  to pay); a call with no answer or to a wrong number is an attempt, not a contact.

Messages that are queued, deferred (queued for later), being sent, blocked by the contact rules,
failed or given up never count, nor do messages to emergency contacts. The time of a contact is
its ``sent_at`` (for a call, when it was logged).

The staff dashboard's contact rate, the overdue report and its CSV, the work queue and the case
page's "last contact" all read these expressions, so they agree.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from portal.auth.models import Channel
from portal.messaging.models import CallOutcome, Message, MessageStatus

# Call outcomes in which the collector spoke with the borrower.
CONNECTED_CALL_OUTCOMES = (CallOutcome.CONNECTED, CallOutcome.REFUSED, CallOutcome.PROMISE_TO_PAY)
_ACCEPTED = (MessageStatus.SENT, MessageStatus.DELIVERED)


def is_contact() -> ColumnElement[bool]:
    """True for a ``Message`` row that is a contact with the borrower (see the module doc)."""
    return and_(
        Message.emergency_contact_id.is_(None),
        Message.sent_at.is_not(None),
        or_(
            and_(
                Message.channel.in_([Channel.PORTAL, Channel.EMAIL]), Message.status.in_(_ACCEPTED)
            ),
            and_(Message.channel == Channel.SMS, Message.status == MessageStatus.DELIVERED),
            and_(
                Message.channel == Channel.PHONE,
                Message.call_outcome.in_(CONNECTED_CALL_OUTCOMES),
            ),
        ),
    )


def last_contact_at(borrower_id: ColumnElement[int] | InstrumentedAttribute[int]):
    """A scalar subquery: when the borrower ``borrower_id`` (a column or value) was last
    contacted, or NULL if never. Correlates with the enclosing query's borrower column."""
    return (
        select(func.max(Message.sent_at))
        .where(Message.borrower_id == borrower_id, is_contact())
        .scalar_subquery()
    )
