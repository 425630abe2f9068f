"""Words for the ledger's codes: an installment's components and how a payment was made.

The one home of these labels: receipts (page, PDF, email), the case page's payment history and
anything else that names a component or a method takes its words from here. Lazily translated;
``label`` falls back to the code itself, so an unknown code is shown rather than hidden.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.loans.models import Component, PaymentMethod
from portal.messaging.labels import label

COMPONENT_LABELS = {
    Component.LATE_CHARGE.value: _l("Late charges"),
    Component.FEE.value: _l("Fees"),
    Component.INTEREST.value: _l("Interest"),
    Component.PRINCIPAL.value: _l("Principal"),
}
PAYMENT_METHOD_LABELS = {
    PaymentMethod.CARD.value: _l("Card"),
    PaymentMethod.ALIPAY.value: _l("Alipay"),
    PaymentMethod.WECHAT_PAY.value: _l("WeChat Pay"),
    PaymentMethod.BANK_TRANSFER.value: _l("Bank transfer"),
}


def component_label(component: Component | str) -> str:
    return label(COMPONENT_LABELS, getattr(component, "value", component))


def method_label(method: PaymentMethod | str) -> str:
    return label(PAYMENT_METHOD_LABELS, getattr(method, "value", method))
