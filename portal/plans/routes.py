"""The plan policy page and the borrower's plan offers (blueprint ``plans``).

Endpoints: ``policy`` (GET /staff/plans/policy: admins edit, collectors view; the policy in force
and its history), ``save_policy`` (POST, admins: a new version, audited ``plan_policy.saved``),
and ``loan_plans`` (GET/POST /loans/<id>/plans, the borrower's own loan: the offers side by
side with their schedules; the posted income and expenses, never stored, mark which are
affordable and order them).
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.collections.cases.forms import amount_of
from portal.extensions import db
from portal.loans.charges.services import PolicyChanged
from portal.loans.services import loan_of_borrower, loan_position
from portal.plans.forms import MeansForm, PlanPolicyForm
from portal.plans.labels import PLAN_LABELS
from portal.plans.offers import monthly_capacity
from portal.plans.services import (
    InvalidPlanPolicy,
    current_plan_policy,
    offers_for,
    plan_policy_history,
    save_plan_policy,
)
from portal.timeutil import local_today, utcnow

bp = Blueprint("plans", __name__)


def _policy_page(form: PlanPolicyForm, errors: list[str] | None = None):
    return render_template(
        "staff/plans/policy.html",
        policy=current_plan_policy(),
        history=plan_policy_history(),
        form=form,
        errors=errors or [],
        failed=form.errors or errors,
        editable=current_user.role is Role.ADMIN,
        labels=PLAN_LABELS,
    )


@bp.get("/staff/plans/policy")
@role_required(Role.COLLECTOR, Role.ADMIN)
def policy():
    """The plan policy in force (a form for admins) and its version history."""
    return _policy_page(PlanPolicyForm.of(current_plan_policy()))


@bp.post("/staff/plans/policy")
@role_required(Role.ADMIN)
def save_policy():
    """Save the form as the next policy version (the admin's input kept on errors)."""
    form = PlanPolicyForm()
    if not form.validate_on_submit():
        return _policy_page(form), 422
    try:
        saved = save_plan_policy(
            form.settings(),
            expected_version=form.expected_version(),
            actor_id=current_user.id,
            now=utcnow(),
            ip_address=request.remote_addr,
        )
    except InvalidPlanPolicy as error:
        db.session.rollback()
        return _policy_page(form, error.errors), 422
    except PolicyChanged as error:
        db.session.rollback()
        form.base_version.data = str(current_plan_policy().version)
        return _policy_page(form, [str(error.message)]), 409
    db.session.commit()
    flash(_("Saved the plan policy as version %(version)s.", version=saved.version), "success")
    return redirect(url_for(".policy"), code=303)


@bp.route("/loans/<int:loan_id>/plans", methods=["GET", "POST"])
@role_required(Role.BORROWER)
def loan_plans(loan_id: int):
    """The offers for the borrower's own loan; posting income and expenses sorts them."""
    loan = loan_of_borrower(current_user.id, loan_id)
    today = local_today(current_user.timezone, utcnow())
    form = MeansForm() if request.method == "POST" else MeansForm(formdata=None)
    capacity = None
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            income = amount_of(form.income, loan.currency)
            expenses = amount_of(form.expenses, loan.currency) if form.expenses.data else 0
            if income is not None and expenses is not None:
                capacity = monthly_capacity(income, expenses, current_plan_policy())
            elif not form.income.errors:
                form.income.errors = [_("Enter your monthly income to see what you can afford.")]
        if capacity is None:
            status = 422
    position = loan_position(loan, today)
    return render_template(
        "borrower/plans.html",
        loan=loan,
        position=position,
        plans=offers_for(position, capacity_minor=capacity, start=today),
        form=form,
        labels=PLAN_LABELS,
    ), status
