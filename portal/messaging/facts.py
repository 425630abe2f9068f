"""Loading what the guard needs for many borrowers at once (a fixed number of queries a batch)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from portal.auth.models import BorrowerProfile, Channel, ContactPreference, User
from portal.extensions import db
from portal.messaging.guard import ContactFacts
from portal.messaging.models import CallOutcome, ContactHold, Message, MessageStatus
from portal.messaging.rulebooks import RulebookSettings, current_rulebook, lender_rulebook_code

COUNTED_STATUSES = (MessageStatus.SENDING, MessageStatus.SENT, MessageStatus.DELIVERED)
LOOKBACK = timedelta(days=8)  # enough for "7 rolling days" plus a local day either side


@dataclass
class BorrowerContext:
    """Everything about a borrower the guard and the renderer need, loaded once per batch."""

    borrower_id: int
    name: str
    email: str
    phone: str | None
    locale: str | None
    timezone: str
    cease_contact: bool
    rulebook: RulebookSettings
    opted_out: set[Channel]
    open_holds: tuple[str, ...]
    history: list[tuple[Channel, datetime, CallOutcome | None, bool]]  # channel, at, call, read

    def address_for(self, channel: Channel) -> str | None:
        if channel is Channel.EMAIL:
            return self.email
        if channel in (Channel.SMS, Channel.PHONE):
            return self.phone
        return None

    def facts(
        self,
        channel: Channel,
        now: datetime,
        *,
        to_third_party: bool = False,
        third_party_address: str | None = None,
    ) -> ContactFacts:
        on_channel = [at for ch, at, _, _ in self.history if ch is channel]
        calls = [(at, outcome) for ch, at, outcome, _ in self.history if ch is Channel.PHONE]
        address = third_party_address if to_third_party else self.address_for(channel)
        return ContactFacts(
            timezone=self.timezone,
            has_address=channel is Channel.PORTAL or bool(address),
            channel_opted_out=channel in self.opted_out,
            cease_contact=self.cease_contact,
            open_holds=self.open_holds,
            sent_on_channel=on_channel,
            dial_attempts=[at for at, _ in calls],
            connected_calls=[
                at
                for at, outcome in calls
                if outcome
                in (CallOutcome.CONNECTED, CallOutcome.PROMISE_TO_PAY, CallOutcome.REFUSED)
            ],
            to_third_party=to_third_party,
            borrower_unreachable=self._unreachable(now),
        )

    def record_contact(self, channel: Channel, at: datetime) -> None:
        """Count a contact made during this batch, so caps hold within the batch too."""
        self.history.append((channel, at, None, False))

    def _unreachable(self, now: datetime) -> bool:
        week = [h for h in self.history if h[1] > now - timedelta(days=7)]
        failed_calls = [
            h
            for h in week
            if h[0] is Channel.PHONE and h[2] in (CallOutcome.NO_ANSWER, CallOutcome.WRONG_NUMBER)
        ]
        answered = [
            h
            for h in week
            if (
                h[0] is Channel.PHONE
                and h[2] is not None
                and h[2] not in (CallOutcome.NO_ANSWER, CallOutcome.WRONG_NUMBER)
            )
            or h[3]
        ]
        return len(failed_calls) >= self.rulebook.unreachable_after_attempts and not answered


def load_borrower_contexts(borrower_ids: set[int], now: datetime) -> dict[int, BorrowerContext]:
    """Contexts for every borrower in ``borrower_ids``: five queries whatever their number."""
    if not borrower_ids:
        return {}
    ids = sorted(borrower_ids)
    rows = db.session.execute(
        select(
            User.id,
            User.name,
            User.email,
            User.locale,
            User.timezone,
            BorrowerProfile.phone,
            BorrowerProfile.cease_contact,
            BorrowerProfile.rulebook_code,
        )
        .join(BorrowerProfile, BorrowerProfile.user_id == User.id)
        .where(User.id.in_(ids))
    ).all()
    opted_out: dict[int, set[Channel]] = defaultdict(set)
    for borrower_id, channel in db.session.execute(
        select(ContactPreference.borrower_id, ContactPreference.channel).where(
            ContactPreference.borrower_id.in_(ids), ContactPreference.allowed.is_(False)
        )
    ):
        opted_out[borrower_id].add(channel)
    holds: dict[int, list[str]] = defaultdict(list)
    for borrower_id, reason in db.session.execute(
        select(ContactHold.borrower_id, ContactHold.reason)
        .where(ContactHold.borrower_id.in_(ids), ContactHold.closed_at.is_(None))
        .order_by(ContactHold.opened_at)
    ):
        holds[borrower_id].append(reason.value)
    history: dict[int, list] = defaultdict(list)
    for borrower_id, channel, sent_at, outcome, read_at in db.session.execute(
        select(
            Message.borrower_id,
            Message.channel,
            Message.sent_at,
            Message.call_outcome,
            Message.read_at,
        ).where(
            Message.borrower_id.in_(ids),
            Message.status.in_(COUNTED_STATUSES),
            Message.emergency_contact_id.is_(None),
            Message.sent_at > now - LOOKBACK,
        )
    ):
        history[borrower_id].append((channel, sent_at, outcome, read_at is not None))
    lender_code = lender_rulebook_code()
    rulebooks: dict[str, RulebookSettings] = {}

    def rulebook(code: str | None) -> RulebookSettings:
        code = code or lender_code
        if code not in rulebooks:
            rulebooks[code] = current_rulebook(code)
        return rulebooks[code]

    return {
        row.id: BorrowerContext(
            borrower_id=row.id,
            name=row.name,
            email=row.email,
            phone=row.phone,
            locale=row.locale,
            timezone=row.timezone,
            cease_contact=row.cease_contact,
            rulebook=rulebook(row.rulebook_code),
            opted_out=opted_out[row.id],
            open_holds=tuple(holds[row.id]),
            history=history[row.id],
        )
        for row in rows
    }
