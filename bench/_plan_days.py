"""Repayment plans around the runs of bench/collections_run.py: the default notice templates,
the plan installments paid between the first and the daily run, the plans by status."""

from __future__ import annotations

from datetime import datetime, timedelta

from _harness import progress
from _plans import bench_plan_paid_later
from _portfolio import AS_OF, NOW
from sqlalchemy import func, insert, literal, or_, select, update

from portal.collections.models import CaseStatus, CollectionCase
from portal.dbtypes import UTCDateTime
from portal.extensions import db
from portal.loans.models import Installment, Payment
from portal.messaging.default_templates import LOCALES, channels_for, default_for
from portal.messaging.purposes import PURPOSES
from portal.messaging.templates import InvalidTemplate, save_version
from portal.plans.models import RepaymentPlan
from portal.plans.queries import in_active_plan


def pay_plans_between_days() -> int:
    """The plan installments due to be paid between the runs are paid (late charges too), each
    by one payment; the cases of loans in a plan with nothing overdue any more lose their
    figures, as the payment's case refresh does (``refresh_loan_case``: "in plan"). The plan's
    completion is left to the daily run, as the other payments' cures are. Returns how many."""
    later, i = bench_plan_paid_later, Installment
    paid_later = i.id.in_(select(later.c.installment_id))
    when = literal(NOW + timedelta(hours=1), UTCDateTime)
    paid = db.session.execute(
        insert(Payment.__table__)
        .from_select(
            ["loan_id", "amount_minor", "currency", "method", "received_at", "created_at"],
            select(
                i.loan_id, i.total_due - i.total_paid, literal("CNY"), literal("alipay"), when, when
            ).where(paid_later),
        )
        .execution_options(preserve_rowcount=True)
    ).rowcount
    db.session.execute(
        update(i)
        .where(paid_later)
        .values(
            principal_paid=i.principal_due,
            interest_paid=i.interest_due,
            fee_paid=i.fee_due,
            late_charge_paid=i.late_charge_due,
        )
        .execution_options(synchronize_session=False)
    )
    c = CollectionCase
    nothing_overdue = (
        ~select(i.id)
        .where(
            i.loan_id == c.loan_id,
            i.due_date < AS_OF,
            or_(
                i.principal_paid < i.principal_due,
                i.interest_paid < i.interest_due,
                i.fee_paid < i.fee_due,
            ),
        )
        .exists()
    )
    db.session.execute(
        update(c)
        .where(
            c.status == CaseStatus.OPEN,
            c.loan_id.in_(select(later.c.loan_id)),
            in_active_plan(c.loan_id),
            nothing_overdue,
        )
        .values(
            oldest_unpaid_due=None,
            overdue_principal=0,
            overdue_interest=0,
            overdue_fee=0,
            overdue_late_charge=0,
        )
        .execution_options(synchronize_session=False)
    )
    later.drop(db.session.connection())
    return paid


def plans_by_status() -> dict[str, int]:
    p = RepaymentPlan
    rows = db.session.execute(select(p.status, func.count()).group_by(p.status)).all()
    return {str(status): number for status, number in sorted(rows)}


def install_notice_templates(now: datetime) -> int:
    """The default message templates, as a deployment has them (a broken plan's notice is
    rendered and queued by the run), each saved on its own: a default that fails validation
    is skipped (on the branch point the SMS texts of plan_broken and plan_proposed lack their
    required ``plan_summary``; the plan notices go by portal and email). Returns how many."""
    created = 0
    for purpose_code in PURPOSES:
        for locale in LOCALES:
            for channel in channels_for(purpose_code):
                subject, body_text = default_for(purpose_code, channel, locale)
                try:
                    with db.session.begin_nested():
                        save_version(
                            purpose_code=purpose_code,
                            channel=channel,
                            locale=locale,
                            subject=subject,
                            body_text=body_text,
                            body_html=None,
                            actor_id=None,
                            now=now,
                        )
                except InvalidTemplate as error:
                    progress(f"default template {purpose_code}/{channel}/{locale} skipped: {error}")
                    continue
                created += 1
    db.session.commit()
    return created
