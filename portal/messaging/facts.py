"""Loading what the guard needs for many borrowers at once (a fixed number of queries a batch)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Row, and_, or_, select

from portal.auth.models import BorrowerProfile, Channel, ContactPreference, User
from portal.extensions import db
from portal.messaging.guard import ContactFacts
from portal.messaging.models import (
    CallOutcome,
    ContactHold,
    EmergencyContact,
    Message,
    MessageStatus,
)
from portal.messaging.rulebooks import RulebookSettings, current_rulebook, lender_rulebook_code
from portal.plans.models import PlanStatus, RepaymentPlan

COUNTED_STATUSES = (MessageStatus.SENDING, MessageStatus.SENT, MessageStatus.DELIVERED)
LOOKBACK = timedelta(days=8)  # enough for "7 rolling days" plus a local day either side


@dataclass(frozen=True)
class EmergencyContactState:
    """What the guard needs about one emergency contact (removed ones too: queued messages
    may still name them)."""

    id: int
    name: str
    phone: str
    removed: bool
    opted_out: bool


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
    emergency_contacts: dict[int, EmergencyContactState] = field(default_factory=dict)
    loans_in_plan: frozenset[int] = frozenset()  # the borrower's loans in an active plan

    def address_for(self, channel: Channel) -> str | None:
        if channel is Channel.EMAIL:
            return self.email
        if channel in (Channel.SMS, Channel.PHONE):
            return self.phone
        return None

    def emergency_contact_phone(self, contact_id: int) -> str | None:
        """The number of one of this borrower's contacts; None if removed or not theirs."""
        contact = self.emergency_contacts.get(contact_id)
        return contact.phone if contact is not None and not contact.removed else None

    def facts(
        self,
        channel: Channel,
        now: datetime,
        *,
        emergency_contact_id: int | None = None,
        loan_id: int | None = None,
    ) -> ContactFacts:
        """The facts for a contact with the borrower, or with one of their emergency contacts,
        about ``loan_id`` when it is about one loan."""
        on_channel = [at for ch, at, _, _ in self.history if ch is channel]
        calls = [(at, outcome) for ch, at, outcome, _ in self.history if ch is Channel.PHONE]
        to_third_party = emergency_contact_id is not None
        if emergency_contact_id is not None:
            address = self.emergency_contact_phone(emergency_contact_id)
            contact = self.emergency_contacts.get(emergency_contact_id)
            contact_opted_out = contact is not None and contact.opted_out
        else:
            address = self.address_for(channel)
            contact_opted_out = False
        return ContactFacts(
            timezone=self.timezone,
            # A portal notice reaches the borrower only: a third party needs their number.
            has_address=(channel is Channel.PORTAL and not to_third_party) or bool(address),
            channel_opted_out=channel in self.opted_out,
            cease_contact=self.cease_contact,
            open_holds=self.open_holds,
            in_plan=loan_id is not None and loan_id in self.loans_in_plan,
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
            third_party_opted_out=contact_opted_out,
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
    """Contexts for every borrower in ``borrower_ids``: seven queries whatever their number."""
    if not borrower_ids:
        return {}
    ids = sorted(borrower_ids)
    rows = _borrower_rows(ids)
    opted_out = _opted_out_channels(ids)
    holds = _open_holds(ids, now)
    history = _recent_history(ids, now)
    contacts = _emergency_contacts(ids)
    in_plan = _loans_in_plan(ids)
    rulebook = _rulebook_lookup()
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
            emergency_contacts=contacts[row.id],
            loans_in_plan=frozenset(in_plan.get(row.id, ())),
        )
        for row in rows
    }


def _loans_in_plan(ids: list[int]) -> dict[int, list[int]]:
    """The borrowers' loans in an active repayment plan (one query)."""
    found: dict[int, list[int]] = {}
    rows = db.session.execute(
        select(RepaymentPlan.borrower_id, RepaymentPlan.loan_id).where(
            RepaymentPlan.borrower_id.in_(ids), RepaymentPlan.status == PlanStatus.ACTIVE
        )
    )
    for borrower_id, loan_id in rows:
        found.setdefault(borrower_id, []).append(loan_id)
    return found


def _borrower_rows(ids: list[int]) -> Sequence[Row]:
    """The borrowers' own columns and their profile's (one query)."""
    return db.session.execute(
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


def _opted_out_channels(ids: list[int]) -> dict[int, set[Channel]]:
    """The channels each borrower switched off (one query)."""
    opted_out: dict[int, set[Channel]] = defaultdict(set)
    for borrower_id, channel in db.session.execute(
        select(ContactPreference.borrower_id, ContactPreference.channel).where(
            ContactPreference.borrower_id.in_(ids), ContactPreference.allowed.is_(False)
        )
    ):
        opted_out[borrower_id].add(channel)
    return opted_out


def _open_holds(ids: list[int], now: datetime) -> dict[int, list[str]]:
    """The reasons of each borrower's open contact holds, oldest first (one query). A hold past
    its ``expires_at`` (a hardship review or pause that lapsed) no longer counts: the one place
    that rule lives."""
    holds: dict[int, list[str]] = defaultdict(list)
    for borrower_id, reason in db.session.execute(
        select(ContactHold.borrower_id, ContactHold.reason)
        .where(ContactHold.borrower_id.in_(ids), hold_in_force(now))
        .order_by(ContactHold.opened_at)
    ):
        holds[borrower_id].append(reason.value)
    return holds


def hold_in_force(now: datetime) -> ColumnElement[bool]:
    """True where a contact hold still pauses contact at ``now``: not closed, and not past its
    ``expires_at``."""
    return and_(
        ContactHold.closed_at.is_(None),
        or_(ContactHold.expires_at.is_(None), ContactHold.expires_at > now),
    )


def _recent_history(ids: list[int], now: datetime) -> dict[int, list]:
    """Each borrower's contacts in ``LOOKBACK``: (channel, at, call outcome, read); one query."""
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
    return history


def _emergency_contacts(ids: list[int]) -> dict[int, dict[int, EmergencyContactState]]:
    """Each borrower's emergency contacts by id, removed ones included (one query)."""
    contacts: dict[int, dict[int, EmergencyContactState]] = defaultdict(dict)
    for contact in db.session.execute(
        select(
            EmergencyContact.id,
            EmergencyContact.borrower_id,
            EmergencyContact.name,
            EmergencyContact.phone,
            EmergencyContact.removed_at,
            EmergencyContact.opted_out_at,
        ).where(EmergencyContact.borrower_id.in_(ids))
    ):
        contacts[contact.borrower_id][contact.id] = EmergencyContactState(
            id=contact.id,
            name=contact.name,
            phone=contact.phone,
            removed=contact.removed_at is not None,
            opted_out=contact.opted_out_at is not None,
        )
    return contacts


def _rulebook_lookup() -> Callable[[str | None], RulebookSettings]:
    """A borrower's rulebook by code (None: the lender's), each loaded once per batch."""
    lender_code = lender_rulebook_code()
    rulebooks: dict[str, RulebookSettings] = {}

    def rulebook(code: str | None) -> RulebookSettings:
        code = code or lender_code
        if code not in rulebooks:
            rulebooks[code] = current_rulebook(code)
        return rulebooks[code]

    return rulebook
