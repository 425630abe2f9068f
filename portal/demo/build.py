"""The demo seed: accounts, loans and about 120 days of history ending on "today"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from portal.audit.services import record as audit
from portal.auth.models import Channel, Role, User
from portal.auth.services import hash_password
from portal.collections.run import run_collections
from portal.demo.accounts import (
    DEMO_LOANS,
    DEMO_PASSWORD,
    collector,
    create_borrower,
    create_demo_borrower,
    create_staff,
    draw_profiles,
    exists,
)
from portal.demo.history import at, latest_run, replay
from portal.demo.legal import seed_legal_request
from portal.demo.loans import Event, LoanTerms, open_loan, plan_loan
from portal.demo.plans import seed_plan
from portal.extensions import db
from portal.loans.charges.models import LateFeeKind
from portal.loans.charges.services import DEFAULT_POLICY, current_policy, save_policy_version
from portal.loans.models import Installment, LoanProduct
from portal.messaging.default_templates import install_default_templates
from portal.messaging.notices.services import send_overdue_notice
from portal.timeutil import portfolio_today, utcnow

HISTORY_DAYS = 120

# What a typical wallet lender charges late: 5 % of the missed installment once, after three
# grace days, and 0.05 % a day on overdue principal, under the 24 % yearly cost cap.
DEMO_CHARGE_POLICY = {
    **DEFAULT_POLICY,
    "grace_days": 3,
    "late_fee_kind": LateFeeKind.PERCENT.value,
    "late_fee_bps": 500,
    "penalty_bps_per_day": 5,
}


@dataclass
class SeedResult:
    users_created: int = 0
    loans_created: int = 0
    payments_created: int = 0


def _seed_charge_policies(now: datetime) -> None:
    """The demo's late-charge policy for every product that has none saved yet."""
    admin = db.session.scalar(select(User).where(User.role == Role.ADMIN).order_by(User.id))
    for product in LoanProduct:
        if current_policy(product).version == 0 and admin is not None:
            save_policy_version(
                product,
                DEMO_CHARGE_POLICY,
                expected_version=0,
                actor_id=admin.id,
                now=now,
                ip_address=None,
            )


def demo_now(today: date) -> datetime:
    """The moment the demo is built at: now, or noon of ``today`` when it lies in the past."""
    now = utcnow()
    return now if today >= portfolio_today(now) else at(today, time(12))


def seed(
    today: date,
    borrowers: int = 50,
    *,
    now: datetime | None = None,
    history_days: int = HISTORY_DAYS,
) -> SeedResult:
    """Create the demo accounts and a portfolio with ``history_days`` of history up to ``today``.

    Existing accounts are kept; deterministic (fixed random seeds), so a second run creates
    nothing. Collections runs commit per step, so this commits as it goes. ``history_days=0``
    books the payments only and runs no collections (the loans as they stand on ``today``).
    """
    now = now or demo_now(today)
    since = today - timedelta(days=history_days)
    result = SeedResult()
    demo_hash = hash_password(DEMO_PASSWORD)  # one slow argon2 hash serves every demo account
    result.users_created += create_staff(demo_hash)
    _seed_charge_policies(at(since, time(0)))
    events: list[Event] = []
    if not exists("borrower@demo.test"):
        user = create_demo_borrower(demo_hash, now)
        result.users_created += 1
        for reference, terms in DEMO_LOANS:
            events += _loan(user.id, reference, terms, (since, today), result)
    for profile in draw_profiles(borrowers):
        if exists(profile.email):
            continue
        user = create_borrower(profile, demo_hash, now)
        result.users_created += 1
        events += _loan(user.id, profile.reference, profile.loan, (since, today), result)
    if result.users_created:
        install_default_templates(now=at(since, time(0)))
        db.session.commit()
        result.payments_created = replay(events, since=since, today=today, viewer=collector())
    last = latest_run()
    if history_days and (last is None or last < today):  # today's run ends the history
        run_collections(today, now=now, contacts=False)
    if result.users_created:
        _seed_notices(today, now)
        audit("demo.seeded", now=now, details=result.__dict__)
    if history_days:
        seed_legal_request(now)
        seed_plan(today, now)
    return result


def _loan(
    borrower_id: int, reference: str, terms: LoanTerms, days: tuple[date, date], result: SeedResult
) -> list[Event]:
    """Open the loan; return what its borrower and the collector did with it."""
    since, today = days
    loan, paid = open_loan(borrower_id, reference, terms, today)
    result.loans_created += 1
    return plan_loan(loan, paid, terms.partial, since=since, today=today)


def _seed_notices(today: date, now: datetime) -> None:
    """An in-portal overdue notice for every overdue demo loan, as the daily run would send.

    Posted now: in-portal notices have no quiet hours, so they are visible at once.
    """
    overdue = db.session.scalars(
        select(Installment.loan_id)
        .where(Installment.due_date < today, Installment.principal_paid < Installment.principal_due)
        .distinct()
    )
    for loan_id in overdue:
        send_overdue_notice(loan_id, channel=Channel.PORTAL, now=now)
