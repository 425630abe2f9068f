"""The borrower's own pages: dashboard and loan detail (blueprint ``loans``)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.loans.labels import component_label, owed_components
from portal.loans.services import loan_of_borrower, loan_position, loans_of_borrower
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
    )


@bp.get("/loans/<int:loan_id>")
@role_required(Role.BORROWER)
def loan_detail(loan_id: int):
    loan = loan_of_borrower(current_user.id, loan_id)
    today = local_today(current_user.timezone, utcnow())
    return render_template("borrower/loan.html", position=loan_position(loan, today), today=today)
