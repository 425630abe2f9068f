"""The late-charge policy page and the case page's waiver of late charges.

Endpoints (blueprint ``loans_charges``): ``policy`` (GET /staff/loans/charges?product=...,
admins: the product's policy in force as a form, and its history), ``save`` (POST, admins: a new
version, audited ``charge_policy.saved``), and ``waive`` (POST
/staff/collections/cases/<id>/late-charges/waive: admins, and collectors who may open the case:
waives late charges with a reason, audited ``ledger.adjusted``, on the case's timeline).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.collections.cases.access import authorized_case
from portal.collections.cases.display import refusal_text
from portal.collections.cases.forms import amount_of
from portal.collections.cases.page import case_page
from portal.domain import DomainError
from portal.extensions import db
from portal.loans.charges.forms import PolicyForm, WaiverForm
from portal.loans.charges.labels import (
    COMPONENT_LABELS,
    LATE_FEE_KIND_LABELS,
    PRODUCT_LABELS,
)
from portal.loans.charges.services import (
    InvalidPolicy,
    PolicyChanged,
    current_policy,
    policy_history,
    save_policy_version,
)
from portal.loans.charges.waivers import waive_case_late_charges
from portal.loans.models import LoanProduct
from portal.templating import money
from portal.timeutil import utcnow

bp = Blueprint("loans_charges", __name__)


def _product(code: str | None) -> LoanProduct:
    try:
        return LoanProduct(code or LoanProduct.WALLET_CASH.value)
    except ValueError:
        abort(404)


def _page(product: LoanProduct, form: PolicyForm, errors: list[str] | None = None):
    return render_template(
        "staff/loans/charge_policy.html",
        product=product,
        products=list(LoanProduct),
        policy=current_policy(product),
        history=policy_history(product),
        form=form,
        errors=errors or [],
        failed=form.errors or errors,
        product_labels=PRODUCT_LABELS,
        component_labels=COMPONENT_LABELS,
        fee_kind_labels=LATE_FEE_KIND_LABELS,
    )


@bp.get("/staff/loans/charges")
@role_required(Role.ADMIN)
def policy():
    """The product's charge policy in force, as a form, and its version history."""
    product = _product(request.args.get("product"))
    return _page(product, PolicyForm.of(current_policy(product)))


@bp.post("/staff/loans/charges/<product>")
@role_required(Role.ADMIN)
def save(product: str):
    """Save the form as the product's next policy version (the admin's input kept on errors)."""
    chosen = _product(product)
    form = PolicyForm()
    if not form.validate_on_submit():
        return _page(chosen, form), 422
    try:
        saved = save_policy_version(
            chosen,
            form.settings(),
            expected_version=form.expected_version(),
            actor_id=current_user.id,
            now=utcnow(),
            ip_address=request.remote_addr,
        )
    except InvalidPolicy as error:
        db.session.rollback()
        return _page(chosen, form, error.errors), 422
    except PolicyChanged as error:
        db.session.rollback()
        form.base_version.data = current_policy(chosen).version
        return _page(chosen, form, [str(error.message)]), 409
    db.session.commit()
    flash(_("Saved the charge policy as version %(version)s.", version=saved.version), "success")
    return redirect(url_for(".policy", product=chosen.value), code=303)


@bp.post("/staff/collections/cases/<int:case_id>/late-charges/waive")
@role_required(Role.COLLECTOR, Role.ADMIN)
def waive(case_id: int):
    """Waive late charges of the case's loan, oldest installment first, with a reason."""
    form = WaiverForm(prefix="waiver")
    case = authorized_case(case_id, current_user)
    if form.validate_on_submit():
        amount = amount_of(form.amount, case.currency)
        if amount is not None:
            try:
                waive_case_late_charges(
                    case_id,
                    amount,
                    viewer=current_user,
                    reason=form.reason.data or "",
                    now=utcnow(),
                    ip_address=request.remote_addr,
                )
            except DomainError as error:
                db.session.rollback()
                form.amount.errors = [*form.amount.errors, refusal_text(error)]
            else:
                db.session.commit()
                flash(
                    _("Waived %(amount)s of late charges.", amount=money(amount, case.currency)),
                    "success",
                )
                return redirect(
                    url_for("collections_cases.case", case_id=case_id, _anchor="timeline"),
                    code=303,
                )
    return case_page(case_id, {"waiver": form}), 422
