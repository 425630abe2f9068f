"""Receipts: one booked payment's receipt as a page and as a PDF.

Endpoints (blueprint ``payments_receipts``, under /payments/receipts): ``receipt`` and
``receipt_pdf``. The borrower whose loan it paid, or staff; anyone else gets 404.
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template
from flask_login import current_user

from portal.auth.models import Role
from portal.auth.permissions import STAFF_ROLES, role_required
from portal.collections.cases.display import borrower_time
from portal.loans.labels import component_label, method_label
from portal.payments.labels import dispute_status_label, refund_status_label
from portal.payments.receipts.documents import render_receipt_pdf
from portal.payments.receipts.services import receipt_for

bp = Blueprint("payments_receipts", __name__, url_prefix="/payments/receipts")
READERS = (Role.BORROWER, *STAFF_ROLES)

# Templates everywhere name components and methods with the one set of labels.
bp.add_app_template_global(component_label, "component_label")
bp.add_app_template_global(method_label, "method_label")
bp.add_app_template_global(refund_status_label, "refund_status_label")
bp.add_app_template_global(dispute_status_label, "dispute_status_label")
bp.add_app_template_global(borrower_time, "receipt_time")


@bp.get("/<int:payment_id>")
@role_required(*READERS)
def receipt(payment_id: int):
    return render_template(
        "payments/receipt.html", receipt=receipt_for(payment_id, viewer=current_user)
    )


@bp.get("/<int:payment_id>.pdf")
@role_required(*READERS)
def receipt_pdf(payment_id: int):
    receipt = receipt_for(payment_id, viewer=current_user)
    response = Response(render_receipt_pdf(receipt), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="receipt-{receipt.number}.pdf"'
    return response
