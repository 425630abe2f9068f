"""Telling the borrower about their plan: confirmed, broken, proposed (portal and email).

Required notices (no hold or opt-out stops them), each once per plan (a dedupe key).
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from babel.dates import format_date
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from portal.auth.models import Channel
from portal.extensions import db
from portal.loans.models import Loan
from portal.messaging.outbox import enqueue
from portal.messaging.templates import RenderFailed, TemplateMissing
from portal.money import format_money
from portal.plans.labels import FREQUENCY_LABELS
from portal.plans.models import RepaymentPlan

log = logging.getLogger(__name__)


def plan_summary(plan: RepaymentPlan, locale: str) -> str:
    """The plan in one line, in ``locale`` (within ``force_locale``): how many installments
    of how much, from which date, and the waiver."""
    schedule = plan.schedule
    first = date.fromisoformat(schedule[0]["due_date"]) if schedule else plan.start_on
    largest = max((s["amount_minor"] for s in schedule), default=0)
    summary = _(
        "%(count)s payments of up to %(amount)s (%(frequency)s), the first on %(first)s",
        count=len(schedule),
        amount=format_money(largest, plan.currency, locale),
        frequency=FREQUENCY_LABELS[plan.frequency.value],
        first=format_date(first, "medium", locale=locale),
    )
    if plan.waiver_minor:
        summary += "; " + _(
            "%(amount)s waived", amount=format_money(plan.waiver_minor, plan.currency, locale)
        )
    return summary


def tell_borrower(plan: RepaymentPlan, purpose_code: str, *, now: datetime) -> None:
    """A plan notice (confirmation, broken) in the portal and by email, once per plan."""
    loan = db.session.get_one(Loan, plan.loan_id)
    base = current_app.config["PUBLIC_URL"].rstrip("/")

    def variables(locale: str) -> dict[str, str]:
        with force_locale(locale):
            return {
                "loan_reference": loan.reference,
                "plan_summary": plan_summary(plan, locale),
                "plans_url": f"{base}/loans/{loan.id}/plans",
            }

    for channel in (Channel.PORTAL, Channel.EMAIL):
        try:
            enqueue(
                borrower_id=plan.borrower_id,
                purpose_code=purpose_code,
                channel=channel,
                variables=variables,
                now=now,
                loan_id=loan.id,
                dedupe_key=f"{purpose_code}:{plan.id}:{channel.value}",
            )
        except (TemplateMissing, RenderFailed) as error:
            log.warning("plan %s: borrower not told by %s: %s", plan.id, channel, error)
