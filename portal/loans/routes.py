"""The borrower's own pages: dashboard and loan detail (blueprint ``loans``)."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.collections.cases.forms import PromiseForm, amount_of
from portal.collections.cases.promises import (
    BorrowerPromiseLimits,
    NoOverdueCase,
    PromiseRefused,
    open_case_of_borrower_loan,
    promises_of_loan,
    record_borrower_promise,
)
from portal.collections.labels import PROMISE_STATUS_LABELS
from portal.extensions import db
from portal.loans.labels import component_label, owed_components
from portal.loans.services import loan_of_borrower, loan_position, loans_of_borrower
from portal.plans.labels import PLAN_LABELS
from portal.plans.pages import live_plans_of_borrower, plan_of_loan_page, progress_of
from portal.templating import money
from portal.timeutil import local_today, utcnow

bp = Blueprint("loans", __name__)
# What a loan owes, by component, on every borrower page that shows it (macros/loans.html).
bp.add_app_template_global(component_label, "component_label")
bp.add_app_template_global(owed_components, "owed_components")


@bp.get("/")
def dashboard():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    if current_user.is_staff:
        return redirect(url_for("staff.home"))
    return _borrower_dashboard()


@role_required(Role.BORROWER)
def _borrower_dashboard():
    today = local_today(current_user.timezone, utcnow())
    positions = [loan_position(loan, today) for loan in loans_of_borrower(current_user.id)]
    live = live_plans_of_borrower(current_user.id) if positions else {}
    plans = {
        p.loan.id: progress_of(live[p.loan.id], p.loan.installments)
        for p in positions
        if p.loan.id in live
    }
    active = [p for p in positions if p.outstanding > 0]
    upcoming = [p.next_installment for p in active if p.next_installment is not None]
    overdue_totals: dict[str, int] = {}
    for position in active:
        if position.is_overdue:
            currency = position.loan.currency
            overdue_totals[currency] = overdue_totals.get(currency, 0) + position.overdue
    return render_template(
        "borrower/dashboard.html",
        positions=positions,
        today=today,
        next_installment=min(upcoming, key=lambda i: i.due_date, default=None),
        overdue_totals=overdue_totals,
        plans=plans,
        plan_labels=PLAN_LABELS,
    )


@bp.get("/loans/<int:loan_id>")
@role_required(Role.BORROWER)
def loan_detail(loan_id: int):
    loan = loan_of_borrower(current_user.id, loan_id)
    today = local_today(current_user.timezone, utcnow())
    plan = plan_of_loan_page(loan.id)
    return render_template(
        "borrower/loan.html",
        position=loan_position(loan, today),
        today=today,
        plan=plan,
        plan_labels=PLAN_LABELS,
    )


def _promise_limits() -> BorrowerPromiseLimits:
    config = current_app.config
    return BorrowerPromiseLimits(config["PROMISE_MAX_DAYS"], config["PROMISE_MINIMUM_UNITS"])


@bp.route("/loans/<int:loan_id>/promise", methods=["GET", "POST"])
@role_required(Role.BORROWER)
def promise(loan_id: int):
    """Promise to pay an overdue loan by a date: the form, and the borrower's promises."""
    loan = loan_of_borrower(current_user.id, loan_id)
    today = local_today(current_user.timezone, utcnow())
    limits = _promise_limits()
    form = PromiseForm()
    try:
        open_case_of_borrower_loan(current_user.id, loan.id, lock=False)
        has_case = True
    except NoOverdueCase:
        has_case = False
    status = 200
    if form.validate_on_submit():
        amount = amount_of(form.amount, loan.currency)
        status = 422
        if amount is not None:
            try:
                made = record_borrower_promise(
                    loan.id,
                    borrower=current_user,
                    amount_minor=amount,
                    promised_on=form.promised_on.data,
                    now=utcnow(),
                    limits=limits,
                    ip_address=request.remote_addr,
                )
            except PromiseRefused as error:
                db.session.rollback()
                field = getattr(form, error.field) if error.field else None
                if field is not None:
                    field.errors = [*field.errors, error.message]
                else:
                    flash(error.message, "danger")
                status = error.status_code
            else:
                db.session.commit()
                flash(
                    _(
                        "Thank you. You promised to pay %(amount)s by %(date)s.",
                        amount=money(made.amount_minor, made.currency),
                        date=format_date(made.promised_on, "medium"),
                    ),
                    "success",
                )
                return redirect(url_for("loans.promise", loan_id=loan.id))
    elif request.method == "POST":
        status = 422
    return render_template(
        "borrower/promise.html",
        loan=loan,
        position=loan_position(loan, today),
        form=form,
        has_case=has_case,
        promises=promises_of_loan(current_user.id, loan.id),
        status_labels=PROMISE_STATUS_LABELS,
        today=today,
        last_day=today + timedelta(days=limits.max_days),
    ), status
