"""The daily run as a scheduled task (Celery beat, or the in-process worker)."""

from datetime import timedelta

from portal.collections.tasks import collections_run_task
from portal.extensions import db
from portal.messaging.default_templates import install_default_templates
from portal.timeutil import local_today, utcnow
from portal.workers import SCHEDULE


def test_run_task_is_scheduled_and_idempotent(app, make_user, make_loan):
    """The task is on the schedule; it opens the day's cases once, then changes nothing."""
    assert "collections.run" in SCHEDULE
    today = local_today("Asia/Shanghai", utcnow())
    make_loan(make_user().id, disbursed_on=today - timedelta(days=45), terms=3)
    with app.app_context():
        install_default_templates(now=utcnow())
        db.session.commit()
        first = collections_run_task.delay().get()
        second = collections_run_task.delay().get()
    assert first["cases_opened"] == 1
    assert (second["cases_opened"], second["transitions"], second["contacts_queued"]) == (0, 0, 0)
