"""Benchmark: appending to and verifying the hash-chained audit log.

What is measured:

* append: ``portal.audit.services.record()`` followed by a commit, one event per transaction
  (as the portal does: each audited request commits its own event), ``--events`` times, with
  realistic events (sign-ins, payments with their allocations, contact-preference changes,
  collection notes in Chinese). Each append updates and re-reads the chain head row (the lock
  that orders appenders), computes the canonical JSON and its HMAC-SHA256 with ``AUDIT_KEY``,
  and flushes the ORM object (the SQLite ``BEFORE INSERT`` guard of migration 0006 runs too).
* verify: ``verify_chain()`` over all of those events (keyset batches, recomputing every hash).

Baselines, in the same run, on the same database and session:

* (a) for append: a plain Core INSERT of the very same rows, hashes precomputed, into a scratch
  table with the same columns, keys and indexes as ``audit_event`` (but no head row, no
  triggers), also one row per committed transaction. Both sides pay the same commit (and, on
  SQLite, the same fsync), so ``append_time / insert_time`` is the cost of the chain itself: the
  head row lock round trips, canonical JSON and the HMAC, the triggers, and the ORM unit of
  work. Append and baseline alternate event by event so that both see the same machine and
  database conditions.
* (b) for verify: HMAC-SHA256 with hmac alone over the same canonical JSON strings, so
  ``verify_time / hash_time`` is what reading the rows back and rebuilding the canonical JSON
  cost on top of the unavoidable hashing.

The expected chain is computed up front with the portal's ``EventContent.hash``; the benchmark stops
if the stored chain differs from it, if ``verify_chain`` does not report it intact, or if the
canonical JSON used for baseline (b) does not hash to the stored ``entry_hash``.

Run: ``.venv/bin/python bench/audit_chain.py [--database-url URL] [--events N]``.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import random
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from _harness import (
    BenchError,
    add_database_option,
    count_option,
    dispose,
    emit,
    environment,
    migrated_app,
    prepare_database,
    progress,
    rate,
    ratio,
    run_main,
)
from flask import Flask
from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    insert,
)

from portal.audit.chain import audit_key
from portal.audit.models import GENESIS_HASH, AuditChainHead
from portal.audit.services import EventContent, record, verify_chain
from portal.auth.models import Role, User
from portal.auth.services import create_user, hash_password
from portal.dbtypes import UTCDateTime
from portal.extensions import db

START = datetime(2026, 11, 28, 1, 2, 3, 456789, tzinfo=UTC)  # fixed: same chain every run
RANDOM_SEED = 20261128
SCRATCH_TABLE = "bench_plain_audit_event"
NOTES = (
    "客户承诺 12 月 5 日前还款，已发送短信提醒。",
    "Borrower asked for a call back after 18:00 Beijing time.",
    "工资延迟发放，申请展期一周；已转主管审批。",
    "Left voicemail; no answer on second attempt.",
)
USER_AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AlipayClient/10.6.10",
    "Mozilla/5.0 (Linux; Android 14; 23127PN0CC) MicroMessenger/8.0.49",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0 Safari/537.36",
)


@dataclass(frozen=True)
class Actors:
    borrower: int
    agent: int
    collector: int


@dataclass(frozen=True)
class PlannedEvent:
    """One event: the arguments for record(), the row it must produce, its canonical JSON."""

    record_kwargs: dict[str, Any]
    row: dict[str, Any]
    canonical: str


@dataclass
class AppendTimings:
    append_seconds: list[float]
    insert_seconds: list[float]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_database_option(parser)
    parser.add_argument(
        "--events",
        type=count_option(),
        default=5_000,
        help="events appended (and as many baseline inserts)",
    )
    parser.add_argument(
        "--verify-rounds",
        type=count_option(1, 100),
        default=3,
        help="full verify_chain() passes, alternating with the hashing baseline",
    )
    return parser.parse_args(argv)


def create_actors() -> Actors:
    """Three accounts to act in events (the foreign key is checked on both tables)."""
    password_hash = hash_password("bench-actor")  # one argon2 hash, outside the timings
    users = [
        create_user(
            email=f"bench-{role.value}@bench.test",
            password_hash=password_hash,
            role=role,
            name=f"Bench {role.value}",
            timezone="Asia/Shanghai",
        )
        for role in (Role.BORROWER, Role.AGENT, Role.COLLECTOR)
    ]
    db.session.commit()
    return Actors(*(user.id for user in users))


# What happened: (action, actor_id, object_type, object_id, details).
Happening = tuple[str, int | None, str, int, dict[str, Any]]


def event_content(number: int, rng: random.Random, actors: Actors) -> dict[str, Any]:
    """The arguments for record() for event ``number``: a realistic mix of portal events."""
    now = START + timedelta(seconds=number * 7, microseconds=rng.randrange(1_000_000))
    ip = f"203.0.113.{rng.randrange(1, 255)}" if number % 4 else f"2001:db8::{number:x}"
    kinds = (sign_in, payment, preference_change, collection_note)
    action, actor_id, object_type, object_id, details = kinds[number % 4](number, rng, actors)
    return {
        "action": action,
        "now": now,
        "actor_id": actor_id,
        "object_type": object_type,
        "object_id": object_id,
        "details": details,
        "ip_address": None if actor_id is None else ip,  # webhooks and jobs have no client IP
    }


def sign_in(_number: int, rng: random.Random, actors: Actors) -> Happening:
    details = {"method": "password", "user_agent": rng.choice(USER_AGENTS)}
    return "auth.login", actors.borrower, "user", actors.borrower, details


def payment(number: int, rng: random.Random, _actors: Actors) -> Happening:
    return "payment.recorded", None, "loan", rng.randrange(1, 5_000), payment_details(number, rng)


def preference_change(_number: int, rng: random.Random, actors: Actors) -> Happening:
    details = {
        "channel": rng.choice(("sms", "email", "phone")),
        "allowed": rng.random() < 0.5,
        "reason": "借款人要求只通过应用联系",
    }
    return "contact_preference.updated", actors.agent, "borrower_profile", actors.borrower, details


def collection_note(number: int, rng: random.Random, actors: Actors) -> Happening:
    details = {
        "note": rng.choice(NOTES),
        "days_past_due": rng.randrange(1, 120),
        "promise_date": (START + timedelta(days=number // 1000 + 7)).date().isoformat(),
    }
    return "collection.note_added", actors.collector, "loan", rng.randrange(1, 5_000), details


def payment_details(number: int, rng: random.Random) -> dict[str, Any]:
    amount = rng.randrange(100, 500_000)
    fee = min(amount, 1_500)
    return {
        "payment_id": number,
        "amount_minor": amount,
        "currency": "CNY",
        "method": rng.choice(("alipay", "wechat_pay", "card")),
        "external_reference": f"pi_{rng.getrandbits(96):024x}",
        "allocations": [
            {"installment": 3, "component": "fee", "amount_minor": fee},
            {"installment": 3, "component": "interest", "amount_minor": amount - fee},
        ],
    }


def canonical_json(fields: dict[str, Any]) -> str:
    """The text EventContent.hash() hashes (checked against it for every planned event)."""
    content = dict(fields, occurred_at=fields["occurred_at"].isoformat(timespec="microseconds"))
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _mac(canonical: str) -> str:
    """The entry hash as the portal computes it: HMAC-SHA256 with the app's AUDIT_KEY (the key
    schedule done once, as the portal does, so the baseline is the bare digest)."""
    mac = _keyed(audit_key()).copy()
    mac.update(canonical.encode())
    return mac.hexdigest()


@lru_cache(maxsize=1)
def _keyed(key: bytes) -> hmac.HMAC:
    return hmac.new(key, digestmod=hashlib.sha256)


def plan_events(count: int, actors: Actors) -> list[PlannedEvent]:
    """The whole expected chain, computed before anything is timed."""
    rng = random.Random(RANDOM_SEED)
    previous_hash = GENESIS_HASH
    plan = []
    for sequence in range(1, count + 1):
        kwargs = event_content(sequence, rng, actors)
        fields = {
            "sequence": sequence,
            "occurred_at": kwargs["now"],
            "actor_id": kwargs["actor_id"],
            "action": kwargs["action"],
            "object_type": kwargs["object_type"],
            "object_id": str(kwargs["object_id"]),
            "details": kwargs["details"],
            "ip_address": kwargs["ip_address"],
            "previous_hash": previous_hash,
        }
        canonical = canonical_json(fields)
        entry_hash = _mac(canonical)
        if entry_hash != EventContent(**fields).hash():
            raise BenchError("bench canonical JSON differs from portal.audit.services")
        plan.append(PlannedEvent(kwargs, fields | {"entry_hash": entry_hash}, canonical))
        previous_hash = entry_hash
    return plan


def scratch_table() -> Table:
    """Same columns, keys and indexes as audit_event; no chain head, no triggers."""
    return Table(
        SCRATCH_TABLE,
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("sequence", BigInteger, nullable=False, unique=True),
        Column("occurred_at", UTCDateTime, nullable=False),
        Column("actor_id", Integer, ForeignKey(User.__table__.c.id, ondelete="RESTRICT")),
        Column("action", String(64), nullable=False, index=True),
        Column("object_type", String(64)),
        Column("object_id", String(64)),
        Column("details", JSON, nullable=False),
        Column("ip_address", String(45)),
        Column("previous_hash", String(64), nullable=False),
        Column("entry_hash", String(64), nullable=False, unique=True),
        CheckConstraint("sequence >= 1"),
    )


def time_appends(plan: list[PlannedEvent], scratch: Table) -> AppendTimings:
    """Alternate one committed record() and one committed plain INSERT, per planned event."""
    timings = AppendTimings([], [])
    clock = time.perf_counter
    statement = insert(scratch)
    for number, planned in enumerate(plan, 1):
        started = clock()
        record(**planned.record_kwargs)
        db.session.commit()
        middle = clock()
        db.session.execute(statement, planned.row)
        db.session.commit()
        ended = clock()
        timings.append_seconds.append(middle - started)
        timings.insert_seconds.append(ended - middle)
        if number % max(1, len(plan) // 5) == 0:
            progress(f"append: {number}/{len(plan)} events")
    return timings


def check_head(plan: list[PlannedEvent]) -> None:
    """The stored chain ends where the planned one does (same events, same order)."""
    head = db.session.get(AuditChainHead, 1, populate_existing=True)
    expected = (len(plan), plan[-1].row["entry_hash"])
    if head is None or (head.sequence, head.entry_hash) != expected:
        raise BenchError("the chain the portal stored differs from the planned one")


def time_verify(plan: list[PlannedEvent], rounds: int) -> tuple[float, float]:
    """Total seconds of ``rounds`` verify_chain() passes and of as many hashing-only passes."""
    verify_seconds = hash_seconds = 0.0
    clock = time.perf_counter
    for number in range(1, rounds + 1):
        db.session.remove()  # a fresh session, as the CLI command would have
        started = clock()
        result = verify_chain()
        verify_seconds += clock() - started
        if not result.intact or result.events_checked != len(plan):
            raise BenchError(f"verify_chain() reported {result.as_dict()}")
        started = clock()
        digests = [_mac(p.canonical) for p in plan]
        hash_seconds += clock() - started
        if digests[-1] != plan[-1].row["entry_hash"]:
            raise BenchError("hashing baseline did not reproduce the last entry hash")
        progress(f"verify: pass {number}/{rounds}")
    return verify_seconds, hash_seconds


def percentile_ms(seconds: list[float], fraction: float) -> float:
    ordered = sorted(seconds)
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000, 3)


def result_of(
    args: argparse.Namespace,
    plan: list[PlannedEvent],
    appends: AppendTimings,
    verify_seconds: float,
    hash_seconds: float,
) -> dict[str, Any]:
    n, rounds = len(plan), args.verify_rounds
    append, inserted = sum(appends.append_seconds), sum(appends.insert_seconds)
    return {
        "benchmark": "audit_chain",
        "events": n,
        "canonical_json_mean_bytes": round(sum(len(p.canonical.encode()) for p in plan) / n),
        "append_events_per_s": rate(n, append),
        "append_mean_ms": round(append / n * 1000, 3),
        "append_p95_ms": percentile_ms(appends.append_seconds, 0.95),
        "baseline_insert_rows_per_s": rate(n, inserted),
        "baseline_insert_mean_ms": round(inserted / n * 1000, 3),
        "ratio_append_to_plain_insert": ratio(append, inserted),
        "verify_rounds": rounds,
        "verify_events_per_s": rate(n * rounds, verify_seconds),
        "baseline_hash_per_s": rate(n * rounds, hash_seconds),
        "ratio_verify_to_hash_only": ratio(verify_seconds, hash_seconds),
        "chain_intact": True,  # checked: any other outcome stops the benchmark
    }


def summary_of(result: dict[str, Any]) -> str:
    return (
        f"audit chain on {result['dialect']}, {result['events']} events: append "
        f"{result['append_events_per_s']:.0f}/s vs plain INSERT "
        f"{result['baseline_insert_rows_per_s']:.0f}/s "
        f"(x{result['ratio_append_to_plain_insert']:.2f}); verify "
        f"{result['verify_events_per_s']:.0f}/s vs hmac alone "
        f"{result['baseline_hash_per_s']:.0f}/s (x{result['ratio_verify_to_hash_only']:.1f})"
    )


def run(app: Flask, args: argparse.Namespace) -> dict[str, Any]:
    with app.app_context():
        actors = create_actors()
        plan = plan_events(args.events, actors)
        scratch = scratch_table()
        scratch.create(db.engine)
        try:
            appends = time_appends(plan, scratch)
            check_head(plan)
            verify_seconds, hash_seconds = time_verify(plan, args.verify_rounds)
        finally:
            db.session.remove()
            scratch.drop(db.engine)
    return result_of(args, plan, appends, verify_seconds, hash_seconds)


def benchmark(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="settle-bench-") as temp_dir:
        url = prepare_database(args.database_url, temp_dir)
        app = migrated_app(url)
        try:
            figures = run(app, args)
        finally:
            dispose(app)
    result = environment(url) | figures
    emit(result, summary_of(result))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_main(lambda: benchmark(args))


if __name__ == "__main__":
    raise SystemExit(main())
