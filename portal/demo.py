"""Demo data: ``flask --app wsgi demo seed``. The only place demo accounts are created."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from portal.audit.services import record as audit
from portal.auth.models import Channel, Role, User
from portal.auth.services import create_user, hash_password
from portal.extensions import db
from portal.loans.models import Installment, LoanProduct, PaymentMethod
from portal.loans.schedule import add_months
from portal.loans.services import create_loan, record_payment
from portal.messaging.default_templates import install_default_templates
from portal.messaging.dispatch import dispatch_due
from portal.messaging.emergency_contacts.services import add_contact
from portal.messaging.notices.services import send_overdue_notice
from portal.timeutil import portfolio_today, utcnow

DEMO_PASSWORD = "demo1234"  # noqa: S105 - published in the README, demo only
STAFF_ACCOUNTS = (
    ("agent@demo.test", Role.AGENT, "Lin Xiaoyu 林晓雨"),
    ("collector@demo.test", Role.COLLECTOR, "Zhao Ming 赵明"),
    ("admin@demo.test", Role.ADMIN, "Chen Jing 陈静"),
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN_NAMES = (
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "磊",
    "洋",
    "艳",
    "杰",
    "婷",
    "浩然",
    "子涵",
    "雨桐",
    "宇轩",
)
# Days past due of the oldest unpaid installment for each bucket (negative: due in the future).
BUCKET_DPD = {
    "current": (-25, -1),
    "1-30": (3, 28),
    "31-60": (33, 58),
    "61-90": (63, 88),
    "91-180": (95, 170),
}
TIMEZONES = ("Asia/Shanghai",) * 8 + ("Asia/Hong_Kong", "Asia/Singapore")


@dataclass
class SeedResult:
    users_created: int = 0
    loans_created: int = 0
    payments_created: int = 0


def seed(today: date, borrowers: int = 50) -> SeedResult:
    """Create the demo accounts and a portfolio around ``today``; existing accounts are kept.

    Deterministic (fixed random seed), so a second run creates nothing. Flushes; caller commits.
    """
    result = SeedResult()
    demo_hash = hash_password(DEMO_PASSWORD)  # one slow argon2 hash serves every demo account
    rng = random.Random(20261128)  # noqa: S311 - demo data, not security
    for email, role, name in STAFF_ACCOUNTS:
        if _exists(email):
            continue
        create_user(
            email=email,
            password_hash=demo_hash,
            role=role,
            name=name,
            timezone="Asia/Shanghai",
            locale="zh_CN",
        )
        result.users_created += 1
    _seed_demo_borrower(today, demo_hash, result)
    buckets = list(BUCKET_DPD)
    for number in range(1, borrowers + 1):
        # Draw for every borrower, created or not, so the sequence stays the same on re-runs.
        name = rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)
        timezone = rng.choice(TIMEZONES)
        locale = "en" if number % 7 == 0 else "zh_CN"
        bucket = buckets[number % len(buckets)]
        dpd = rng.randint(*BUCKET_DPD[bucket])
        principal = rng.randrange(500, 20_001, 100) * 100
        rate = rng.choice((1800, 2400, 3000, 3600))
        terms = rng.choice((3, 6, 12))
        partial = rng.random() < 0.35
        email = f"borrower{number:02d}@demo.test"
        if _exists(email):
            continue
        user = create_user(
            email=email,
            password_hash=demo_hash,
            role=Role.BORROWER,
            name=name,
            timezone=timezone,
            locale=locale,
            phone=f"+86138{rng.randrange(10**8):08d}",
        )
        result.users_created += 1
        _seed_loan(
            user.id, f"LN-D{number:04d}-1", today, dpd, principal, rate, terms, partial, result
        )
        if number % 3 == 0:  # some borrowers named someone to reach them through
            add_contact(  # no draws here: the sequence above must not depend on what exists
                user.id,
                name=SURNAMES[number % len(SURNAMES)]
                + GIVEN_NAMES[(number * 7) % len(GIVEN_NAMES)],
                phone=f"+86139{number:08d}",
                relationship=("parent", "sibling", "friend")[(number // 3) % 3],
                now=utcnow(),
                actor_id=user.id,
            )
    if result.users_created:
        _seed_notices(today)
        audit("demo.seeded", now=utcnow(), details=result.__dict__)
    return result


def _seed_notices(today: date) -> None:
    """An in-portal overdue notice for every overdue demo loan, as the daily run would send.

    Posted now: in-portal notices have no quiet hours, so they are visible at once.
    """
    now = utcnow()
    install_default_templates(now=now)
    overdue = db.session.scalars(
        select(Installment.loan_id)
        .where(Installment.due_date < today, Installment.principal_paid < Installment.principal_due)
        .distinct()
    )
    for loan_id in overdue:
        send_overdue_notice(loan_id, channel=Channel.PORTAL, now=now)


def _exists(email: str) -> bool:
    return (db.session.scalar(select(func.count()).where(User.email == email)) or 0) > 0


def _seed_demo_borrower(today: date, demo_hash: str, result: SeedResult) -> None:
    if _exists("borrower@demo.test"):
        return
    user = create_user(
        email="borrower@demo.test",
        password_hash=demo_hash,
        role=Role.BORROWER,
        name="Wang Fang 王芳",
        timezone="Asia/Shanghai",
        locale="zh_CN",
        phone="+8613800138000",
        customer_number="C-DEMO-0001",
    )
    result.users_created += 1
    add_contact(
        user.id,
        name="Wang Jian 王建",
        phone="+8613900139000",
        relationship="parent",
        now=utcnow(),
        actor_id=user.id,
    )
    _seed_loan(user.id, "LN-DEMO-0001", today, 12, 300_000, 2400, 6, True, result)
    _seed_loan(user.id, "LN-DEMO-0002", today, -9, 150_000, 1800, 3, False, result)


def _seed_loan(
    borrower_id: int,
    reference: str,
    today: date,
    dpd: int,
    principal: int,
    rate: int,
    terms: int,
    partial: bool,
    result: SeedResult,
) -> None:
    """A loan whose oldest unpaid installment is ``dpd`` days past due on ``today``."""
    installments_paid = min(terms - 1, max(0, (terms - 1) // 2 - dpd // 31))
    oldest_unpaid_due = today - timedelta(days=dpd)
    disbursed_on = add_months(oldest_unpaid_due, -(installments_paid + 1))
    loan = create_loan(
        borrower_id=borrower_id,
        reference=reference,
        product=LoanProduct.WALLET_CASH,
        principal_minor=principal,
        annual_rate_bps=rate,
        fee_minor=principal // 100,
        currency=current_app.config["DEFAULT_CURRENCY"],
        disbursed_on=disbursed_on,
        terms=terms,
    )
    result.loans_created += 1
    method = (PaymentMethod.ALIPAY, PaymentMethod.WECHAT_PAY, PaymentMethod.CARD)[loan.id % 3]
    for installment in loan.installments[:installments_paid]:
        _pay(loan.id, installment.outstanding, installment.due_date, method, loan.currency)
        result.payments_created += 1
    if partial:
        unpaid = loan.installments[installments_paid]
        _pay(
            loan.id,
            unpaid.outstanding // 3,
            unpaid.due_date - timedelta(days=1),
            method,
            loan.currency,
        )
        result.payments_created += 1


def _pay(loan_id: int, amount: int, on: date, method: PaymentMethod, currency: str) -> None:
    record_payment(
        loan_id=loan_id,
        amount_minor=amount,
        currency=currency,
        method=method,
        received_at=datetime.combine(on, time(4, 0), tzinfo=UTC),
    )


demo_cli = AppGroup("demo", help="Demo data for trying the portal.")


@demo_cli.command("seed")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Build the portfolio around this date (default: today in DEFAULT_TIMEZONE).",
)
@click.option("--borrowers", default=50, show_default=True, help="How many extra borrowers.")
def seed_command(today: datetime | None, borrowers: int) -> None:
    """Create demo accounts (password demo1234) and about 50 borrowers; safe to run twice."""
    if current_app.config["PORTAL_ENV"] == "production":
        raise click.ClickException("Demo data is never created in production.")
    as_of = today.date() if today else portfolio_today(utcnow())
    result = seed(as_of, borrowers)
    db.session.commit()
    # In-portal notices need no outside service: deliver them now, so the demo shows them.
    dispatch_due(utcnow, channels={Channel.PORTAL})
    click.echo(json.dumps({"today": as_of.isoformat(), **result.__dict__}))
