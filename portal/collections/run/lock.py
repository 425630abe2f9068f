"""The run's lock: the ``collection_run`` row for a date. Claiming it refuses a date that cannot
be run (in the future, before any loan, before the latest run) and a run already in progress;
releasing it marks the run finished, with its report.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from portal.collections.models import CollectionRun
from portal.domain import DomainError
from portal.extensions import db
from portal.loans.models import Loan
from portal.sqlutil import rows_affected
from portal.timeutil import portfolio_today

STALE_RUN = timedelta(hours=1)


class RunRefused(DomainError):
    status_code = 422


class RunInProgress(DomainError):
    status_code = 409
    message = _l("A collections run for this date is already in progress. Try again when it ends.")


def check_date(as_of: date, now: datetime) -> None:
    today = portfolio_today(now)
    if as_of > today:
        raise RunRefused(
            _l("A run cannot be for a future date (today is %(today)s).", today=today.isoformat())
        )
    # EXISTS stops at the first such loan; min(disbursed_on) would read them all.
    if not db.session.scalar(select(exists().where(Loan.disbursed_on <= as_of))):
        raise RunRefused(
            _l("There are no loans on or before %(date)s to evaluate.", date=as_of.isoformat())
        )
    # Cases hold the state of the latest run (their days past due count to its date): a run
    # for an earlier date would turn them back in time.
    latest = db.session.scalar(select(func.max(CollectionRun.as_of)))
    if latest is not None and as_of < latest:
        raise RunRefused(
            _l(
                "Runs go forward in time: the latest run was for %(latest)s, so %(date)s "
                "cannot be run any more.",
                latest=latest.isoformat(),
                date=as_of.isoformat(),
            )
        )


def claim_run(as_of: date, now: datetime, strategy_version: int) -> None:
    try:
        db.session.add(
            CollectionRun(
                as_of=as_of,
                status="running",
                started_at=now,
                strategy_version=strategy_version,
                report={},
            )
        )
        db.session.commit()
        return
    except IntegrityError:
        db.session.rollback()
    # A finished run may run again (it changes nothing); a running one only if it went stale.
    claimed = rows_affected(
        db.session.execute(
            update(CollectionRun)
            .where(
                CollectionRun.as_of == as_of,
                or_(CollectionRun.status == "finished", CollectionRun.started_at < now - STALE_RUN),
            )
            .values(status="running", started_at=now, strategy_version=strategy_version)
        )
    )
    db.session.commit()
    if not claimed:
        raise RunInProgress()


def release_run(as_of: date, report: dict | None, now: datetime) -> None:
    """Mark the run finished (a failed run too: it may be retried at once), with its report."""
    values: dict = {"status": "finished", "finished_at": now}
    if report is not None:
        values["report"] = report
    db.session.execute(update(CollectionRun).where(CollectionRun.as_of == as_of).values(**values))
    db.session.commit()
