"""Staff pages about plans (blueprint ``plans_staff``).

Endpoints: ``propose`` (POST /staff/collections/cases/<id>/plans/propose, collectors and admins
who may work on the case: propose one offer to the borrower), ``approvals`` (GET
/staff/plans/approvals, admins: the plans waiting for a decision), ``approve`` and ``decline``
(POST, admins). Each POST calls one service, commits once and goes back with the result
flashed; a refusal rolls back and is flashed instead.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.forms import EmptyForm
from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.collections.cases.access import (
    CaseNotOpen,
    CaseOfAnotherCollector,
    authorized_case,
    borrower_timezone,
)
from portal.extensions import db
from portal.plans.approval import (
    PlanAlreadyDecided,
    approve_plan,
    decline_plan,
    plans_awaiting_approval,
)
from portal.plans.case_plans import propose_for_case
from portal.plans.enrollment import PlanRefused
from portal.plans.forms import ProposeForm
from portal.plans.labels import PLAN_LABELS
from portal.plans.models import PlanStatus
from portal.timeutil import local_today, portfolio_today, utcnow

bp = Blueprint("plans_staff", __name__)


@bp.post("/staff/collections/cases/<int:case_id>/plans/propose")
@role_required(Role.COLLECTOR, Role.ADMIN)
def propose(case_id: int):
    """Propose one of the case loan's offers; the borrower is told and decides."""
    case = authorized_case(case_id, current_user)  # 404 / 403 before anything is read
    back = url_for("collections_cases.case", case_id=case.id, _anchor="plans")
    form = ProposeForm()
    quoted = form.quoted_balance_minor()
    if not form.validate_on_submit() or quoted is None:
        flash(_("Choose one of the plans shown."), "danger")
        return redirect(back, code=303)
    now = utcnow()
    try:
        propose_for_case(
            case.id,
            viewer=current_user,
            term=form.term.data or "",
            quoted_balance_minor=quoted,
            today=local_today(borrower_timezone(case), now),
            now=now,
            ip_address=request.remote_addr,
        )
    except (PlanRefused, CaseNotOpen, CaseOfAnotherCollector) as refused:
        db.session.rollback()
        flash(str(refused.message), "danger")
        return redirect(back, code=303)
    db.session.commit()
    flash(_("Plan proposed. The borrower has been told and can agree to it online."), "success")
    return redirect(back, code=303)


@bp.get("/staff/plans/approvals")
@role_required(Role.ADMIN)
def approvals():
    """The plans above the policy's limits, waiting for an admin's decision."""
    return render_template(
        "staff/plans/approvals.html",
        waiting=plans_awaiting_approval(),
        form=EmptyForm(formdata=None),
        labels=PLAN_LABELS,
    )


def _decide(plan_id: int, approve: bool):
    if not EmptyForm().validate_on_submit():
        abort(400)
    now = utcnow()
    try:
        if approve:
            plan = approve_plan(
                plan_id, admin_id=current_user.id, now=now, ip_address=request.remote_addr
            )
        else:
            plan = decline_plan(
                plan_id,
                admin_id=current_user.id,
                today=portfolio_today(now),
                now=now,
                ip_address=request.remote_addr,
            )
    except PlanAlreadyDecided as refused:
        db.session.rollback()
        flash(str(refused.message), "danger")
        return redirect(url_for(".approvals"), code=303)
    db.session.commit()
    if plan.status is PlanStatus.CANCELED:
        flash(_("Plan declined."), "success")
    else:
        status = PLAN_LABELS["status"][plan.status.value]
        flash(_("Plan approved: %(status)s.", status=status), "success")
    return redirect(url_for(".approvals"), code=303)


@bp.post("/staff/plans/<int:plan_id>/approve")
@role_required(Role.ADMIN)
def approve(plan_id: int):
    """Approve: the plan waits for its down payment (or starts now, without one)."""
    return _decide(plan_id, approve=True)


@bp.post("/staff/plans/<int:plan_id>/decline")
@role_required(Role.ADMIN)
def decline(plan_id: int):
    """Decline: the plan is canceled; the borrower may choose another offer."""
    return _decide(plan_id, approve=False)
