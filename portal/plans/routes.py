"""The plan policy page and the borrower's plan offers (blueprint ``plans``).

Endpoints: ``policy`` (GET /staff/plans/policy: admins edit, collectors view; the policy in force
and its history), ``save_policy`` (POST, admins: a new version, audited ``plan_policy.saved``),
and the borrower's pages, each about their own loan only (another loan is 404):
``loan_plans`` (GET/POST /loans/<id>/plans: the offers side by side with their schedules; the
posted income and expenses, never stored, mark which are affordable and order them),
``enroll`` (POST: consent to one offer), ``loan_plan`` (GET /loans/<id>/plan: the plan, its
down payment, progress or end) and ``pay_down_payment`` (POST: to the down payment's checkout).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.forms import EmptyForm
from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.collections.cases.forms import amount_of
from portal.domain import DomainError
from portal.extensions import db
from portal.loans.charges.services import PolicyChanged
from portal.loans.services import loan_of_borrower
from portal.plans import enrollment
from portal.plans.enrollment import PlanRefused, loan_offers, term_key
from portal.plans.forms import EnrollForm, MeansForm, PlanPolicyForm
from portal.plans.labels import PLAN_LABELS
from portal.plans.models import PlanStatus
from portal.plans.offers import monthly_capacity
from portal.plans.pages import open_down_payment, plan_of_loan_page, progress_of, proposed_offer
from portal.plans.services import (
    InvalidPlanPolicy,
    current_plan_policy,
    plan_policy_history,
    save_plan_policy,
)
from portal.plans.terms import PLAN_TERMS, PLAN_TERMS_VERSION
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


def _capacity(form: MeansForm, currency: str) -> int | None:
    """What the stated income and expenses afford a month (None, with a field error, when the
    income is missing or an amount is not one)."""
    income = amount_of(form.income, currency)
    expenses = amount_of(form.expenses, currency) if form.expenses.data else 0
    if income is not None and expenses is not None:
        return monthly_capacity(income, expenses, current_plan_policy())
    if not form.income.errors:
        form.income.errors = [_("Enter your monthly income to see what you can afford.")]
    return None


def _offers_page(loan, form: MeansForm, capacity, status=200, error=None, chosen=None):
    """The offers page: the offers (sorted by ``capacity`` when stated), the proposal of our
    team highlighted, one consent form per offer; ``error`` on the ``chosen`` term's form."""
    now = utcnow()
    today = local_today(current_user.timezone, now)
    plans, history = loan_offers(loan, today=today, now=now, capacity_minor=capacity)
    live = history.live
    proposal = live if live is not None and live.status is PlanStatus.PROPOSED else None
    return render_template(
        "borrower/plans.html",
        loan=loan,
        plans=plans,
        form=form,
        enroll_form=EnrollForm(formdata=None),
        proposal=proposal,
        proposed=proposed_offer(proposal) if proposal is not None else None,
        agreed=live if live is not None and live.consented_at is not None else None,
        terms=PLAN_TERMS,
        terms_version=PLAN_TERMS_VERSION,
        term_key=term_key,
        error=error,
        chosen=chosen,
        labels=PLAN_LABELS,
    ), status


@bp.route("/loans/<int:loan_id>/plans", methods=["GET", "POST"])
@role_required(Role.BORROWER)
def loan_plans(loan_id: int):
    """The offers for the borrower's own loan; posting income and expenses sorts them."""
    loan = loan_of_borrower(current_user.id, loan_id)
    if request.method != "POST":
        return _offers_page(loan, MeansForm(formdata=None), None)
    form = MeansForm()
    capacity = _capacity(form, loan.currency) if form.validate_on_submit() else None
    return _offers_page(loan, form, capacity, 200 if capacity is not None else 422)


@bp.post("/loans/<int:loan_id>/plans/enroll")
@role_required(Role.BORROWER)
def enroll(loan_id: int):
    """The borrower agrees to one offer: the plan, then its page (the down payment next).
    A stale offer is shown re-priced (409); another refusal shows its reason (422)."""
    loan = loan_of_borrower(current_user.id, loan_id)
    form = EnrollForm()
    means = MeansForm(
        formdata=None, data={"income": form.income.data, "expenses": form.expenses.data}
    )
    capacity = _capacity(means, loan.currency) if form.income.data else None
    means.income.errors, means.expenses.errors = [], []  # they were checked when first posted
    if not form.validate_on_submit() or form.quoted_balance_minor() is None:
        return _offers_page(loan, means, capacity, 422, _("Choose one of the plans shown."))
    now = utcnow()
    try:
        plan = enrollment.enroll(
            borrower_id=current_user.id,
            loan_id=loan.id,
            term=form.term.data or "",
            quoted_balance_minor=form.quoted_balance_minor() or 0,
            consent=bool(form.consent.data),
            today=local_today(current_user.timezone, now),
            now=now,
            ip_address=request.remote_addr,
            user_agent=request.user_agent.string,
        )
    except PlanRefused as refused:
        db.session.rollback()
        loan = loan_of_borrower(current_user.id, loan_id)
        return _offers_page(
            loan, means, capacity, refused.status_code, str(refused.message), form.term.data
        )
    db.session.commit()
    if plan.status is PlanStatus.ACTIVE:
        flash(_("Your plan has started. Thank you."), "success")
    return redirect(url_for(".loan_plan", loan_id=loan.id), code=303)


@bp.get("/loans/<int:loan_id>/plan")
@role_required(Role.BORROWER)
def loan_plan(loan_id: int):
    """The borrower's plan for the loan: its down payment, approval, progress or end."""
    loan = loan_of_borrower(current_user.id, loan_id)
    plan = plan_of_loan_page(loan.id)
    if plan is None:
        return redirect(url_for(".loan_plans", loan_id=loan.id), code=303)
    return render_template(
        "borrower/plan.html",
        loan=loan,
        progress=progress_of(plan, loan.installments),
        today=local_today(current_user.timezone, utcnow()),
        pay_form=EmptyForm(formdata=None),
        statuses=PlanStatus,
        labels=PLAN_LABELS,
    )


@bp.post("/loans/<int:loan_id>/plan/down-payment")
@role_required(Role.BORROWER)
def pay_down_payment(loan_id: int):
    """Open the down payment's checkout (the one already open, if any)."""
    loan = loan_of_borrower(current_user.id, loan_id)
    back = url_for(".loan_plan", loan_id=loan.id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        attempt = open_down_payment(loan, now=utcnow())
    except DomainError as refused:
        db.session.rollback()
        flash(str(refused.message), "danger")
        return redirect(back, code=303)
    db.session.commit()
    return redirect(url_for("payments.checkout", attempt_id=attempt.id), code=303)
