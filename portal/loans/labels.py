"""Words for the ledger's codes: an installment's components and how a payment was made.

The one home of these labels: the borrower's loan page, dashboard and notices (through the
``component_label`` template global), receipts (page, PDF, email), the case page's payment
history and any export take their words from here. Lazily translated; ``label`` falls back to
the code itself, so an unknown code is shown rather than hidden.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.loans.models import Component, PaymentMethod
from portal.messaging.labels import label

COMPONENT_LABELS = {
    Component.PRINCIPAL.value: _l("Principal"),
    Component.INTEREST.value: _l("Interest"),
    Component.LATE_CHARGE.value: _l("Late charges"),
    Component.FEE.value: _l("Fees"),
}
PAYMENT_METHOD_LABELS = {
    PaymentMethod.CARD.value: _l("Card"),
    PaymentMethod.ALIPAY.value: _l("Alipay"),
    PaymentMethod.WECHAT_PAY.value: _l("WeChat Pay"),
    PaymentMethod.BANK_TRANSFER.value: _l("Bank transfer"),
}
# The order a borrower reads what they owe: what they borrowed first, charges after.
OWED_ORDER = (Component.PRINCIPAL, Component.INTEREST, Component.LATE_CHARGE, Component.FEE)


def component_label(component: Component | str) -> str:
    """A component in words: ``late_charge`` -> "Late charges"."""
    return label(COMPONENT_LABELS, getattr(component, "value", component))


def method_label(method: PaymentMethod | str) -> str:
    return label(PAYMENT_METHOD_LABELS, getattr(method, "value", method))


def owed_components() -> tuple[Component, ...]:
    """The components in the order a borrower reads what they owe (a template global)."""
    return OWED_ORDER
