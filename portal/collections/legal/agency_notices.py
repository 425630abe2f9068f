"""Telling the borrower that their loan went to an outside agency, or came back.

A placement is never silent: the borrower gets a required notice in their Settle account (the
contact rules let required notices through even while contact is on hold), and their contact
settings page says with whom and since when (``placements_of``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from babel.dates import format_date
from sqlalchemy import select

from portal.auth.models import Channel, User
from portal.collections.models import AgencyPlacement, CollectionCase
from portal.extensions import db
from portal.loans.models import Loan
from portal.messaging.models import Message
from portal.messaging.outbox import enqueue
from portal.timeutil import local_today

PLACED = "agency_placed"
RECALLED = "agency_recalled"


def tell_borrower(
    case: CollectionCase,
    placement: AgencyPlacement,
    purpose_code: str,
    *,
    now: datetime,
    actor_id: int | None,
) -> Message:
    """Queue the PLACED or RECALLED notice for the case's borrower (portal, once per placement
    and purpose). Flushes. Raises TemplateMissing when no template is installed: a placement
    the borrower is not told of is refused with it."""
    timezone = db.session.execute(
        select(User.timezone).where(User.id == case.borrower_id)
    ).scalar_one()
    reference = db.session.execute(
        select(Loan.reference).where(Loan.id == case.loan_id)
    ).scalar_one()
    day = local_today(timezone, now)
    day_variable = "placed_on" if purpose_code == PLACED else "recalled_on"

    def variables(locale: str) -> dict[str, str]:
        return {
            "loan_reference": reference,
            "agency_name": placement.agency,
            day_variable: format_date(day, "long", locale=locale),
        }

    return enqueue(
        borrower_id=case.borrower_id,
        purpose_code=purpose_code,
        channel=Channel.PORTAL,
        variables=variables,
        now=now,
        loan_id=case.loan_id,
        actor_id=actor_id,
        dedupe_key=f"{purpose_code}:{placement.id}",
    )


@dataclass(frozen=True)
class PlacementForBorrower:
    """What the borrower is shown of a placement: dates in their own time zone."""

    loan_reference: str
    agency: str
    placed_on: date
    recalled_on: date | None


def placements_of(borrower_id: int, timezone: str) -> list[PlacementForBorrower]:
    """Every agency placement of the borrower's loans, newest first."""
    rows = db.session.execute(
        select(AgencyPlacement, Loan.reference)
        .join(CollectionCase, CollectionCase.id == AgencyPlacement.case_id)
        .join(Loan, Loan.id == CollectionCase.loan_id)
        .where(CollectionCase.borrower_id == borrower_id)
        .order_by(AgencyPlacement.placed_at.desc(), AgencyPlacement.id.desc())
    ).all()
    return [
        PlacementForBorrower(
            loan_reference=reference,
            agency=placement.agency,
            placed_on=local_today(timezone, placement.placed_at),
            recalled_on=(
                local_today(timezone, placement.recalled_at) if placement.recalled_at else None
            ),
        )
        for placement, reference in rows
    ]
