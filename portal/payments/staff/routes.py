"""Staff actions on payments (blueprint ``payments_staff``, under /staff/payments), admins only.

- ``reconciliation``: ``GET /staff/payments/reconciliation?since=YYYY-MM-DD`` (default: the last
  30 days) shows the same report as ``flask payments reconcile``.
- ``refund_form`` (the payment, what is left to refund, the form) and ``refund`` (POST): the
  admin's refund of one payment. The form is also shown per payment on the case page. A refused
  refund shows the form again with its error (422); a processor failure keeps the failed refund
  on record (committed) and says so (503/502).
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.domain import DomainError
from portal.extensions import db
from portal.money import InvalidAmount, parse_amount
from portal.payments.gateway import ProcessorUnavailable, payment_gateway
from portal.payments.history import payment_row
from portal.payments.labels import attempt_status_label
from portal.payments.reconciliation import (
    InvalidSince,
    default_since,
    parse_since,
    reconcile,
    start_of_day,
)
from portal.payments.refunds import RefundRefused, refund_payment
from portal.payments.staff.forms import RefundForm
from portal.templating import money
from portal.timeutil import local_today, utcnow

bp = Blueprint("payments_staff", __name__, url_prefix="/staff/payments")


@bp.get("/reconciliation")
@role_required(Role.ADMIN)
def reconciliation():
    """Read only: asks the processor for its payments and compares them with the ledger."""
    timezone = current_app.config["DEFAULT_TIMEZONE"]
    today = local_today(timezone, utcnow())
    text = request.args.get("since", "").strip()
    page = {"since_text": text, "today": today, "attempt_status_label": attempt_status_label}
    try:
        since = parse_since(text, today=today) if text else default_since(today)
    except InvalidSince as error:
        template = "staff/payments/reconciliation.html"
        return render_template(template, since_error=error.message, **page), 422
    page["since_text"] = since.isoformat()
    try:
        report = reconcile(payment_gateway(), start_of_day(since, timezone))
    except ProcessorUnavailable as error:
        template = "staff/payments/reconciliation.html"
        return render_template(template, unavailable=error.message, since=since, **page), 503
    return render_template("staff/payments/reconciliation.html", report=report, since=since, **page)


def _back(form: RefundForm, payment_id: int) -> str:
    target = form.next.data or ""
    if target.startswith("/staff/") and not target.startswith("//"):
        return target
    return url_for(".refund_form", payment_id=payment_id)


def _page(payment_id: int, form: RefundForm, status: int = 200, error: str | None = None):
    row = payment_row(payment_id)
    return (
        render_template("staff/payments/refund.html", row=row, form=form, error=error),
        status,
    )


@bp.get("/<int:payment_id>/refund")
@role_required(Role.ADMIN)
def refund_form(payment_id: int):
    form = RefundForm(formdata=None, next=request.args.get("next", ""))
    return _page(payment_id, form)


@bp.post("/<int:payment_id>/refund")
@role_required(Role.ADMIN)
def refund(payment_id: int):
    form = RefundForm()
    row = payment_row(payment_id)  # 404 before anything else for an unknown payment
    amount = None
    if form.validate_on_submit():
        try:
            amount = parse_amount(form.amount.data, row.payment.currency)
        except InvalidAmount:
            form.amount.errors = [_("Enter an amount such as 1,250.00.")]
    if amount is None:
        db.session.rollback()
        return _page(payment_id, form, 422)
    try:
        refund_payment(
            payment_id=payment_id,
            amount_minor=amount,
            reason=form.reason.data,
            actor_id=current_user.id,
            now=utcnow(),
            ip_address=request.remote_addr,
        )
    except RefundRefused as error:
        db.session.rollback()
        return _page(payment_id, form, error.status_code, error=str(error.message))
    except DomainError as error:
        db.session.commit()  # the failed refund and its alert stay on record
        return _page(payment_id, form, error.status_code, error=str(error.message))
    db.session.commit()
    flash(_("Refunded %(amount)s.", amount=money(amount, row.payment.currency)), "success")
    return redirect(_back(form, payment_id), code=303)
