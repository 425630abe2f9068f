"""Without Redis, the same tasks run in a thread of the web process."""

from portal.auth.models import Channel
from portal.extensions import db
from portal.messaging.models import Message, MessageStatus
from portal.messaging.outbox import enqueue
from portal.messaging.tasks import dispatch_task, reminders_task, sweep_task
from portal.timeutil import utcnow
from portal.workers import InProcessWorker


def test_in_process_worker_delivers_queued_notices(app, make_user, templates_installed):
    """One pass of the in-process worker sweeps, dispatches and generates reminders."""
    with app.app_context():
        borrower = make_user()
        message = enqueue(
            borrower_id=borrower.id,
            purpose_code="due_today",
            channel=Channel.PORTAL,
            now=utcnow(),
            variables={
                "loan_reference": "LN-1",
                "amount_due": "¥1.00",
                "pay_url": "http://127.0.0.1/pay",
            },
        )
        db.session.commit()
        message_id = message.id
    worker = InProcessWorker(
        app,
        {
            "messaging.sweep": sweep_task,
            "messaging.dispatch": dispatch_task,
            "messaging.reminders": reminders_task,
        },
    )
    worker.run_due()
    with app.app_context():
        assert db.session.get(Message, message_id).status is MessageStatus.SENT


def test_celery_runs_tasks_eagerly_without_redis(app):
    """With no REDIS_URL, Celery needs no broker: calling a task runs it here."""
    celery = app.extensions["celery"]
    assert celery.conf.task_always_eager is True
    with app.app_context():
        assert sweep_task.delay().get() == 0
