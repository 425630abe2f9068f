"""Background work: Celery on Redis at scale, or a thread in the web process by default.

Both run the same task functions (portal/messaging/tasks.py). With REDIS_URL set, Celery workers
take the tasks from Redis and Celery beat schedules them; without it, Celery runs tasks eagerly
when called, and ``InProcessWorker`` calls them on the same schedule, so `make run` needs no
other service.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from celery import Celery, Task
from flask import Flask

log = logging.getLogger(__name__)

# Task name -> every how many seconds it runs (beat, or the in-process worker).
SCHEDULE: dict[str, float] = {
    "messaging.sweep": 60.0,
    "messaging.dispatch": 15.0,
    "messaging.reminders": 3600.0,
    "collections.run": 3600.0,
    "payments.receipts": 10.0,
}


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app bound to ``app``; tasks run inside an application context."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    redis_url = app.config["REDIS_URL"]
    celery = Celery(app.import_name, task_cls=FlaskTask)
    celery.conf.update(
        broker_url=redis_url or "memory://",
        task_always_eager=not redis_url,
        task_ignore_result=True,
        task_acks_late=True,  # a worker that dies mid-task leaves it for another
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        beat_schedule_filename=os.path.join(app.instance_path, "celerybeat-schedule"),
        beat_schedule={
            name: {"task": name, "schedule": timedelta(seconds=seconds)}
            for name, seconds in SCHEDULE.items()
        },
        timezone="UTC",
    )
    celery.set_default()
    app.extensions["celery"] = celery
    import portal.collections.tasks  # noqa: F401  (registers the tasks)
    import portal.messaging.tasks  # noqa: F401
    import portal.payments.tasks  # noqa: F401

    return celery


class InProcessWorker:
    """A daemon thread that runs the scheduled tasks in the web process (no Redis needed)."""

    def __init__(self, app: Flask, tasks: dict[str, Callable[[], object]], tick: float = 5.0):
        self.app = app
        self.tasks = tasks
        self.tick = tick
        self._wake = threading.Event()
        self._last_run: dict[str, float] = {}
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="settle-worker", daemon=True
                )
                self._thread.start()

    def wake(self) -> None:
        """Deliver soon: called after a request committed new messages."""
        self._last_run.pop("messaging.dispatch", None)
        self._wake.set()

    def run_due(self) -> None:
        now = time.monotonic()
        for name, task in self.tasks.items():
            if now - self._last_run.get(name, float("-inf")) < SCHEDULE[name]:
                continue
            self._last_run[name] = now
            with self.app.app_context():
                try:
                    task()
                except Exception:  # one failing task must not stop the others or the thread
                    log.exception("in-process task %s failed", name)

    def _loop(self) -> None:
        while True:
            self.run_due()
            self._wake.wait(self.tick)
            self._wake.clear()


def init_app(app: Flask) -> None:
    celery_init_app(app)
    if not app.config["IN_PROCESS_WORKER"] or app.config.get("TESTING"):
        return
    from portal.collections.tasks import collections_run_task
    from portal.messaging.tasks import dispatch_task, reminders_task, sweep_task
    from portal.payments.tasks import receipts_task

    worker = InProcessWorker(
        app,
        {
            "messaging.sweep": sweep_task,
            "messaging.dispatch": dispatch_task,
            "messaging.reminders": reminders_task,
            "collections.run": collections_run_task,
            "payments.receipts": receipts_task,
        },
    )
    app.extensions["in_process_worker"] = worker
    # Started by the first request, so CLI commands (db upgrade, seed) never start it.
    app.before_request(worker.start)


def notify_outbox(app: Flask) -> None:
    """New messages were committed: get them delivered soon."""
    worker = app.extensions.get("in_process_worker")
    if worker is not None:
        worker.wake()
    elif not app.extensions["celery"].conf.task_always_eager:
        from portal.messaging.tasks import dispatch_task

        dispatch_task.delay()
