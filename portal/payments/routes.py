"""The borrower's payment journey (blueprint ``payments``): pay page, checkout, processing.

Three screens from a notice to the receipt: choose what to pay (the allocation shown with each
option), confirm it at the checkout (Stripe's Payment Element, or the local sandbox), then the
processing page, which turns to "paid" by itself once a verified event booked the payment. The
browser never books anything: it only reads the attempt's status.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.forms import EmptyForm
from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.domain import DomainError
from portal.extensions import db
from portal.loans.services import loan_of_borrower
from portal.payments.forms import PayForm, SandboxCardForm
from portal.payments.labels import OPTION_HINTS, OPTION_LABELS, decline_message
from portal.payments.models import LIVE_STATUSES, PaymentAttempt, PayOption, Provider
from portal.payments.quotes import PayQuote, quote, read_amount
from portal.payments.sandbox_checkout import CardRefused, pay_in_sandbox
from portal.payments.services import (
    State,
    attempt_of_borrower,
    attempt_status,
    mark_confirming,
    start_payment,
)
from portal.timeutil import local_today, utcnow

bp = Blueprint("payments", __name__)


def receipt_url(attempt: PaymentAttempt) -> str:
    """Where a paid attempt leads: its payment's receipt (the loan, if it has no payment)."""
    if attempt.payment_id is None:
        return url_for("loans.loan_detail", loan_id=attempt.loan_id)
    return url_for("payments_receipts.receipt", payment_id=attempt.payment_id)


def _today():
    return local_today(current_user.timezone, utcnow())


def _pay_page(form: PayForm, offer: PayQuote, *, preview_other: int | None = None, status=200):
    for option in (PayOption.OVERDUE, PayOption.NEXT_INSTALLMENT, PayOption.PAYOFF):
        form[f"shown_{option.value}"].data = offer.amount_of(option)  # what this page shows
    previews = {option: offer.preview(offer.amount_of(option)) for option in offer.options()}
    if preview_other is not None:
        previews[PayOption.OTHER] = offer.preview(preview_other)
        form.previewed.data = preview_other
    else:
        previews.pop(PayOption.OTHER, None)
    return render_template(
        "payments/pay.html",
        form=form,
        offer=offer,
        previews=previews,
        option_labels=OPTION_LABELS,
        option_hints=OPTION_HINTS,
    ), status


@bp.route("/loans/<int:loan_id>/pay", methods=["GET", "POST"])
@role_required(Role.BORROWER)
def pay(loan_id: int):
    """The options with their amounts and allocations; POST starts (or finds) the attempt."""
    offer = quote(loan_of_borrower(current_user.id, loan_id), _today())
    form = PayForm()
    if not form.is_submitted():
        form.option.data = offer.default_option().value
        return _pay_page(form, offer)
    if not form.validate_on_submit():
        return _pay_page(form, offer, status=422)
    option = PayOption(form.option.data)
    try:
        if option is PayOption.OTHER:
            amount = offer.check(option, read_amount(form.other_amount.data, offer.currency))
            if form.action.data != "pay" or form.previewed.data != amount:
                return _pay_page(form, offer, preview_other=amount)  # shown before confirming
        else:
            # The amount the page showed: if it changed since, the service says so.
            amount = form[f"shown_{option.value}"].data or 0
        attempt = start_payment(
            borrower_id=current_user.id,
            loan_id=loan_id,
            option=option,
            amount_minor=amount,
            today=offer.position.today,
            now=utcnow(),
        )
    except DomainError as refused:
        db.session.rollback()
        target = form.other_amount if option is PayOption.OTHER else form.option
        target.errors = [*target.errors, str(refused.message)]
        form.previewed.data = None  # a refused amount is previewed again before it is paid
        offer = quote(loan_of_borrower(current_user.id, loan_id), _today())
        return _pay_page(form, offer, status=refused.status_code)
    db.session.commit()
    return redirect(url_for(".checkout", attempt_id=attempt.id), code=303)


@bp.get("/payments/<int:attempt_id>")
@role_required(Role.BORROWER)
def checkout(attempt_id: int):
    """Confirm the payment: Stripe's Payment Element, or the sandbox's card form."""
    attempt = attempt_of_borrower(current_user.id, attempt_id)
    if attempt.status.value not in LIVE_STATUSES or attempt.intent_id is None:
        return redirect(url_for(".processing", attempt_id=attempt.id), code=303)
    if attempt.provider is Provider.SANDBOX:
        return _sandbox_page(attempt, SandboxCardForm(formdata=None))
    return render_template(
        "payments/checkout_stripe.html",
        attempt=attempt,
        publishable_key=current_app.config["STRIPE_PUBLISHABLE_KEY"],
        return_url=url_for(".processing", attempt_id=attempt.id, _external=True),
        confirm_form=EmptyForm(formdata=None),
        last_decline=decline_message(attempt.failure_code) if attempt.failure_code else None,
    )


def _sandbox_page(attempt: PaymentAttempt, form: SandboxCardForm, status: int = 200):
    return render_template(
        "payments/checkout_sandbox.html",
        attempt=attempt,
        form=form,
        last_decline=decline_message(attempt.failure_code) if attempt.failure_code else None,
    ), status


@bp.post("/payments/<int:attempt_id>/sandbox")
@role_required(Role.BORROWER)
def sandbox_pay(attempt_id: int):
    """The sandbox's "pay" button: the test card's verdict is processed as Stripe's event."""
    attempt = attempt_of_borrower(current_user.id, attempt_id)
    form = SandboxCardForm()
    if not form.validate_on_submit():
        return _sandbox_page(attempt, form, 422)
    try:
        pay_in_sandbox(
            borrower_id=current_user.id,
            attempt_id=attempt_id,
            card_number=form.card_number.data or "",
            expiry=form.expiry.data or "",
            cvc=form.cvc.data or "",
            today=_today(),
            now=utcnow(),
        )
    except CardRefused as refused:
        db.session.rollback()
        field = form[refused.field]
        field.errors = [*field.errors, str(refused.message)]
        return _sandbox_page(attempt_of_borrower(current_user.id, attempt_id), form, 422)
    db.session.commit()
    return redirect(url_for(".processing", attempt_id=attempt_id), code=303)


@bp.post("/payments/<int:attempt_id>/confirming")
@role_required(Role.BORROWER)
def confirming(attempt_id: int):
    """Stripe.js is about to confirm: the status page waits for this try's verdict (JSON)."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    attempt = mark_confirming(current_user.id, attempt_id, now=utcnow())
    db.session.commit()
    return jsonify(status=attempt.status.value)


@bp.get("/payments/<int:attempt_id>/processing")
@role_required(Role.BORROWER)
def processing(attempt_id: int):
    """Where the checkout returns: "processing" until a verified event booked the payment."""
    view = attempt_status(current_user.id, attempt_id)
    return render_template(
        "payments/processing.html",
        view=view,
        attempt=view.attempt,
        states=State,
        status=_status_payload(view),
    )


@bp.get("/payments/<int:attempt_id>/status")
@role_required(Role.BORROWER)
def status(attempt_id: int):
    """The attempt's state as JSON, polled by the processing page."""
    return jsonify(_status_payload(attempt_status(current_user.id, attempt_id)))


def _status_payload(view) -> dict:
    attempt = view.attempt
    return {
        "state": view.state,
        "message": _state_message(view),
        "receipt_url": receipt_url(attempt) if view.state == State.PAID else None,
        "retry_url": url_for(".checkout", attempt_id=attempt.id),
    }


def _state_message(view) -> str:
    if view.state == State.DECLINED:
        return decline_message(view.failure_code)
    return {
        State.PAID: _("Paid. Thank you: your payment is booked."),
        State.REVIEW: _(
            "We received your payment and are checking it. Our team will contact you if needed."
        ),
        State.CANCELED: _("This payment was canceled. Nothing was charged."),
        State.WAITING: _("This payment is not confirmed yet."),
    }.get(view.state, _("Processing your payment… this page updates by itself."))
