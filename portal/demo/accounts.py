"""Demo accounts: staff, the demo borrower and the drawn borrowers, with emergency contacts."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from portal.auth.models import Role, User
from portal.auth.services import create_user
from portal.demo.loans import LoanTerms
from portal.extensions import db
from portal.messaging.emergency_contacts.services import add_contact

DEMO_PASSWORD = "demo1234"  # noqa: S105 - published in the README, demo only
COLLECTOR_EMAIL = "collector@demo.test"
STAFF_ACCOUNTS = (
    ("agent@demo.test", Role.AGENT, "Lin Xiaoyu 林晓雨"),
    (COLLECTOR_EMAIL, Role.COLLECTOR, "Zhao Ming 赵明"),
    ("admin@demo.test", Role.ADMIN, "Chen Jing 陈静"),
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN_NAMES = (
    "伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "杰", "婷", "浩然", "子涵", "雨桐", "宇轩",
)  # fmt: skip
# Days past due of the oldest unpaid installment for each bucket (negative: due in the future).
BUCKET_DPD = {
    "current": (-25, -1),
    "1-30": (3, 28),
    "31-60": (33, 58),
    "61-90": (63, 88),
    "91-180": (95, 170),
}
TIMEZONES = ("Asia/Shanghai",) * 8 + ("Asia/Hong_Kong", "Asia/Singapore")
DEMO_LOANS = (  # borrower@demo.test: one loan overdue and partly paid, one on schedule
    ("LN-DEMO-0001", LoanTerms(12, 300_000, 2400, 6, partial=True)),
    ("LN-DEMO-0002", LoanTerms(-9, 150_000, 1800, 3, partial=False)),
)


@dataclass(frozen=True)
class Profile:
    """One drawn demo borrower and the loan they hold at "today"."""

    number: int
    name: str
    timezone: str
    locale: str
    dpd: int
    principal: int
    rate: int
    terms: int
    partial: bool
    phone: str

    @property
    def email(self) -> str:
        return f"borrower{self.number:02d}@demo.test"

    @property
    def reference(self) -> str:
        return f"LN-D{self.number:04d}-1"

    @property
    def loan(self) -> LoanTerms:
        return LoanTerms(self.dpd, self.principal, self.rate, self.terms, self.partial)


def exists(email: str) -> bool:
    return (db.session.scalar(select(func.count()).where(User.email == email)) or 0) > 0


def draw_profiles(count: int) -> list[Profile]:
    """The demo borrowers, the same every time (fixed random seed)."""
    rng = random.Random(20261128)  # noqa: S311 - demo data, not security
    buckets = list(BUCKET_DPD)
    profiles = []
    for number in range(1, count + 1):
        name = rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)
        timezone = rng.choice(TIMEZONES)
        bucket = buckets[number % len(buckets)]
        profiles.append(
            Profile(
                number=number,
                name=name,
                timezone=timezone,
                locale="en" if number % 7 == 0 else "zh_CN",
                dpd=rng.randint(*BUCKET_DPD[bucket]),
                principal=rng.randrange(500, 20_001, 100) * 100,
                rate=rng.choice((1800, 2400, 3000, 3600)),
                terms=rng.choice((3, 6, 12)),
                partial=rng.random() < 0.35,
                phone=f"+86138{rng.randrange(10**8):08d}",
            )
        )
    return profiles


def create_staff(demo_hash: str) -> int:
    """The agent, collector and admin accounts that do not exist yet; returns how many."""
    created = 0
    for email, role, name in STAFF_ACCOUNTS:
        if exists(email):
            continue
        create_user(
            email=email,
            password_hash=demo_hash,
            role=role,
            name=name,
            timezone="Asia/Shanghai",
            locale="zh_CN",
        )
        created += 1
    return created


def create_demo_borrower(demo_hash: str, now: datetime) -> User:
    """borrower@demo.test (Wang Fang), who named her father as emergency contact."""
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
    add_contact(
        user.id,
        name="Wang Jian 王建",
        phone="+8613900139000",
        relationship="parent",
        now=now,
        actor_id=user.id,
    )
    return user


def create_borrower(profile: Profile, demo_hash: str, now: datetime) -> User:
    """A drawn borrower; every third one named someone to reach them through."""
    user = create_user(
        email=profile.email,
        password_hash=demo_hash,
        role=Role.BORROWER,
        name=profile.name,
        timezone=profile.timezone,
        locale=profile.locale,
        phone=profile.phone,
    )
    number = profile.number
    if number % 3 == 0:
        add_contact(
            user.id,
            name=SURNAMES[number % len(SURNAMES)] + GIVEN_NAMES[(number * 7) % len(GIVEN_NAMES)],
            phone=f"+86139{number:08d}",
            relationship=("parent", "sibling", "friend")[(number // 3) % 3],
            now=now,
            actor_id=user.id,
        )
    return user


def collector() -> User | None:
    return db.session.scalar(select(User).where(User.email == COLLECTOR_EMAIL))
