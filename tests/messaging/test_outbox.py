from datetime import timedelta

import pytest
from sqlalchemy import select

import portal.messaging.dispatch as dispatch_module
from portal.auth.models import Channel, ContactPreference
from portal.extensions import db
from portal.messaging.channels import DeliveryError
from portal.messaging.dispatch import dispatch_due, retry_delay, sweep_stuck
from portal.messaging.guard import Outcome
from portal.messaging.models import (
    ContactDecisionRecord,
    ContactHold,
    HoldReason,
    Message,
    MessageStatus,
)
from portal.messaging.outbox import enqueue
from portal.messaging.templates import RenderFailed, TemplateMissing
from tests.messaging.conftest import NOON_SHANGHAI

RECEIPT = {
    "loan_reference": "LN-1",
    "amount_paid": "¥100.00",
    "paid_at": "2026-11-28",
    "outstanding": "¥0.00",
    "allocation_summary": "第 1 期 · 本金：¥100.00",
    "receipt_url": "http://x/payments/receipts/1",
}
DUE = {"loan_reference": "LN-1", "amount_due": "¥500.00", "pay_url": "http://x/pay"}


@pytest.fixture
def borrower(app_ctx, make_user, templates_installed):
    account = make_user(locale="en")
    from portal.auth.models import BorrowerProfile

    db.session.get(BorrowerProfile, account.id).phone = "+8613800000001"
    db.session.commit()
    return account


def _enqueue(borrower, channel, purpose="due_today", variables=DUE, now=NOON_SHANGHAI, **kw):
    message = enqueue(
        borrower_id=borrower.id,
        purpose_code=purpose,
        channel=channel,
        variables=variables,
        now=now,
        **kw,
    )
    db.session.commit()
    return message


def test_message_records_the_template_version_and_decision(borrower):
    """Each queued message names its template version; its decision is kept with its rule."""
    message = _enqueue(borrower, Channel.EMAIL)
    assert message.status is MessageStatus.QUEUED
    assert message.template_version.version == 1
    assert "LN-1" in message.body_text
    decision = db.session.scalars(select(ContactDecisionRecord)).one()
    assert (decision.message_id, decision.outcome, decision.rule, decision.rulebook) == (
        message.id,
        "send",
        "allowed",
        "CN",
    )


def test_night_time_message_is_deferred_not_dropped(borrower):
    """At 23:00 local the text is queued for 08:00 local."""
    night = NOON_SHANGHAI + timedelta(hours=13)  # 23:00 Shanghai
    message = _enqueue(borrower, Channel.SMS, now=night)
    assert message.status is MessageStatus.QUEUED
    assert message.not_before == NOON_SHANGHAI + timedelta(hours=22)  # 08:00 next day


def test_text_messages_carry_an_opt_out_line(borrower):
    """Reminder texts end with how to opt out; a receipt does not need one."""
    assert _enqueue(borrower, Channel.SMS).body_text.endswith("Reply STOP to opt out.")


def test_opted_out_channel_blocks_reminders_but_not_required_notices(borrower):
    """Opting out of email blocks a reminder there; a payment receipt still goes."""
    db.session.scalar(
        select(ContactPreference).where(
            ContactPreference.borrower_id == borrower.id, ContactPreference.channel == Channel.EMAIL
        )
    ).allowed = False
    db.session.commit()
    reminder = _enqueue(borrower, Channel.EMAIL)
    receipt = _enqueue(borrower, Channel.EMAIL, purpose="payment_receipt", variables=RECEIPT)
    assert (reminder.status, reminder.blocked_rule) == (MessageStatus.BLOCKED, "opt_out:email")
    assert receipt.status is MessageStatus.QUEUED


def test_open_hold_blocks_collection_contact(borrower):
    """While a dispute is open, overdue contact is blocked with the hold as the rule."""
    db.session.add(
        ContactHold(borrower_id=borrower.id, reason=HoldReason.DISPUTE, opened_at=NOON_SHANGHAI)
    )
    db.session.commit()
    message = _enqueue(borrower, Channel.SMS)
    assert message.blocked_rule == "hold:dispute"


def test_missing_variable_and_missing_template_are_errors(borrower):
    """A variable left out fails loudly; so does a purpose with no template in the language."""
    with pytest.raises(RenderFailed):
        _enqueue(borrower, Channel.EMAIL, variables={"loan_reference": "LN-1"})
    db.session.rollback()
    from portal.messaging.models import TemplateVersion

    for version in db.session.scalars(select(TemplateVersion)):
        db.session.delete(version)
    db.session.commit()
    with pytest.raises(TemplateMissing):
        _enqueue(borrower, Channel.EMAIL)


def test_dedupe_key_queues_once(borrower):
    """Generating the same business message twice queues it once."""
    first = _enqueue(borrower, Channel.PORTAL, dedupe_key="reminder:1:0:portal")
    second = _enqueue(borrower, Channel.PORTAL, dedupe_key="reminder:1:0:portal")
    assert first.id == second.id
    assert db.session.scalar(select(db.func.count()).select_from(Message)) == 1


def test_every_channel_asks_the_guard_again_at_delivery(borrower, spies, monkeypatch):
    """No path sends without the guard: each delivery is preceded by a SEND decision, and
    a borrower who ceased contact after queueing receives nothing on any channel."""
    decided = []
    real_decision = dispatch_module.guard_decision

    def spy_decision(message, borrower, now):
        decision = real_decision(message, borrower, now)
        decided.append((message.channel, decision.outcome))
        return decision

    monkeypatch.setattr(dispatch_module, "guard_decision", spy_decision)
    for channel in spies:
        _enqueue(borrower, channel)
    report = dispatch_due(lambda: NOON_SHANGHAI, adapters=spies)
    assert report.sent == 3
    assert sorted(c.value for c, o in decided if o is Outcome.SEND) == ["email", "portal", "sms"]

    for channel in spies:
        _enqueue(borrower, channel, variables={**DUE, "loan_reference": "LN-2"})
    from portal.auth.models import BorrowerProfile

    db.session.get(BorrowerProfile, borrower.id).cease_contact = True
    db.session.commit()
    sent_before = sum(len(spy.sent) for spy in spies.values())
    report = dispatch_due(lambda: NOON_SHANGHAI, adapters=spies)
    assert report.blocked == 3
    assert sum(len(spy.sent) for spy in spies.values()) == sent_before


def test_caps_hold_within_one_batch(borrower, spies):
    """Three reminder texts queued at once: two go today, the third waits for tomorrow."""
    for n in range(3):
        _enqueue(borrower, Channel.SMS, variables={**DUE, "loan_reference": f"LN-{n}"})
    report = dispatch_due(lambda: NOON_SHANGHAI, adapters=spies)
    assert (report.sent, report.deferred) == (2, 1)
    deferred = db.session.scalar(select(Message).where(Message.status == MessageStatus.QUEUED))
    assert deferred.not_before == NOON_SHANGHAI + timedelta(hours=22)


def test_transient_failures_retry_with_backoff_then_dead_letter(app, borrower, spies):
    """A failing channel is retried 1, 5, 25... minutes later, then dead after the limit."""
    app.config["MESSAGE_MAX_ATTEMPTS"] = 3
    message = _enqueue(borrower, Channel.EMAIL)
    spies[Channel.EMAIL].fail_with = DeliveryError("SMTP server unreachable")
    now = NOON_SHANGHAI
    dispatch_due(lambda: now, adapters=spies)
    db.session.refresh(message)
    assert (message.status, message.attempts) == (MessageStatus.FAILED, 1)
    assert message.not_before == now + retry_delay(1)
    assert dispatch_due(lambda: now, adapters=spies).claimed == 0  # not before the backoff
    for _ in range(2):
        retry_at = message.not_before
        dispatch_due(lambda at=retry_at: at, adapters=spies)
        db.session.refresh(message)
    assert (message.status, message.attempts) == (MessageStatus.DEAD, 3)
    assert message.last_error == "SMTP server unreachable"


def test_permanent_failure_is_dead_at_once(borrower, spies):
    """A refused address is not retried; the reason is kept."""
    message = _enqueue(borrower, Channel.EMAIL)
    spies[Channel.EMAIL].fail_with = DeliveryError("recipient refused", permanent=True)
    dispatch_due(lambda: NOON_SHANGHAI, adapters=spies)
    db.session.refresh(message)
    assert (message.status, message.last_error) == (MessageStatus.DEAD, "recipient refused")


def test_sweeper_requeues_messages_of_a_dead_worker(borrower, spies):
    """A claim left in 'sending' past the limit goes back to the queue and is delivered once."""
    message = _enqueue(borrower, Channel.PORTAL)
    dispatch_module.claim_batch(NOON_SHANGHAI, 10)  # the worker dies after claiming
    db.session.refresh(message)
    assert message.status is MessageStatus.SENDING
    assert sweep_stuck(NOON_SHANGHAI + timedelta(minutes=5), timedelta(minutes=10)) == 0
    assert sweep_stuck(NOON_SHANGHAI + timedelta(minutes=11), timedelta(minutes=10)) == 1
    dispatch_due(lambda: NOON_SHANGHAI + timedelta(minutes=11), adapters=spies)
    assert spies[Channel.PORTAL].sent == [message.id]


def test_an_unexpected_channel_error_fails_only_that_message(borrower, spies):
    """A bug in one adapter marks that message failed (retried later); the batch goes on."""
    broken = _enqueue(borrower, Channel.EMAIL)
    fine = _enqueue(borrower, Channel.PORTAL)

    def explode(message, context):
        raise RuntimeError("adapter bug")

    spies[Channel.EMAIL].send = explode
    report = dispatch_due(lambda: NOON_SHANGHAI, adapters=spies)
    db.session.refresh(broken)
    db.session.refresh(fine)
    assert (report.failed, report.sent) == (1, 1)
    assert broken.status is MessageStatus.FAILED
    assert broken.last_error == "RuntimeError: adapter bug"
    assert fine.status is MessageStatus.SENT


def test_sweeping_with_no_grace_requeues_every_claim(borrower):
    """sweep_stuck(timedelta(0)) takes back every claim, as its argument says."""
    message = _enqueue(borrower, Channel.PORTAL)
    dispatch_module.claim_batch(NOON_SHANGHAI, 10)
    assert sweep_stuck(NOON_SHANGHAI + timedelta(seconds=1), timedelta(0)) == 1
    db.session.refresh(message)
    assert message.status is MessageStatus.QUEUED
