"""The case page as a response: rendered blank, or again with a submitted form's errors (422).

Shared by the case routes (``portal.collections.cases.routes``); it reads the signed-in user
but changes nothing.
"""

from __future__ import annotations

from flask import current_app, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.routing import BuildError

from portal.auth.models import Role
from portal.collections import labels
from portal.collections.cases import forms
from portal.collections.cases.assignment import active_collectors
from portal.collections.cases.display import borrower_time, since
from portal.collections.cases.profile import case_view
from portal.collections.cases.timeline import case_timeline
from portal.hardship.forms import DecisionForm
from portal.hardship.labels import HARDSHIP_LABELS
from portal.hardship.services import requests_of_case
from portal.messaging.purposes import PURPOSES
from portal.payments.history import loan_payments
from portal.payments.staff.forms import RefundForm
from portal.plans.case_plans import case_plan
from portal.plans.enrollment import term_key
from portal.plans.forms import ProposeForm
from portal.plans.labels import PLAN_LABELS
from portal.plans.models import PlanStatus
from portal.plans.pages import proposed_offer
from portal.plans.services import offers_for_case
from portal.timeutil import utcnow

LEGAL_ENDPOINT = "collections_legal.request_form"


def _legal_url(case_id: int) -> str | None:
    """The legal request form, once the legal capability is installed (no link before)."""
    if LEGAL_ENDPOINT not in current_app.view_functions:
        return None
    try:
        return url_for(LEGAL_ENDPOINT, case_id=case_id)
    except BuildError:
        return None


def case_page(case_id: int, submitted: dict[str, FlaskForm] | None = None, revealed=None):
    """The case page, with the forms just submitted (errors, input) in place of blank ones."""
    now = utcnow()
    view = case_view(case_id, viewer=current_user, now=now)
    timezone = view.borrower.timezone
    action_forms = {
        name: form(formdata=None, prefix=name) for name, form in forms.ACTION_FORMS.items()
    }
    action_forms.update(submitted or {})
    plan = case_plan(view.case.loan_id, now=now)
    assign_form = None
    if current_user.role is Role.ADMIN:
        assign_form = forms.AssignForm(formdata=None, collector=view.case.assigned_to)
        assign_form.collector.choices = active_collectors()
    return render_template(
        "staff/collections/case.html",
        view=view,
        case=view.case,
        timeline=case_timeline(view.case),
        forms=action_forms,
        submitted_name=next(iter(submitted or {}), None),
        purposes=PURPOSES,
        assign_form=assign_form,
        reveal_form=forms.RevealForm(formdata=None),
        revealed=revealed or {},
        legal_url=_legal_url(case_id),
        payment_rows=loan_payments(view.case.loan_id),
        case_plans=offers_for_case(
            case_id,
            view.case_loan.position,
            start=view.borrower_today,
            active_plan=plan.active_plan,
            plans_last_year=plan.plans_last_year,
        ),
        case_plan=plan,
        proposed=(
            proposed_offer(plan.plan)
            if plan.plan is not None and plan.plan.status is PlanStatus.PROPOSED
            else None
        ),
        propose_form=ProposeForm(formdata=None),
        term_key=term_key,
        plan_labels=PLAN_LABELS,
        refund_forms=RefundForm(formdata=None) if current_user.role is Role.ADMIN else None,
        back=url_for("collections_cases.case", case_id=case_id),
        labels=labels,
        hardship_requests=requests_of_case(case_id),
        hardship_form=(
            DecisionForm(formdata=None, prefix="hardship")
            if current_user.role is Role.ADMIN
            else None
        ),
        hardship_labels=HARDSHIP_LABELS,
        now=now,
        local=lambda value, fmt="short": borrower_time(value, timezone, fmt),
        since=lambda value: since(value, now),
    )
