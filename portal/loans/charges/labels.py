"""Words for the codes the charge policy page and the case page show: products, components,
late-fee kinds, charge kinds and ledger adjustments. Lazily translated."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.loans.charges.models import ChargeKind, LateFeeKind
from portal.loans.models import AdjustmentKind, Component, LoanProduct

PRODUCT_LABELS = {
    LoanProduct.WALLET_CASH.value: _l("Wallet cash advance"),
    LoanProduct.BUY_NOW_PAY_LATER.value: _l("Buy now, pay later"),
}
COMPONENT_LABELS = {
    Component.LATE_CHARGE.value: _l("Late charges"),
    Component.FEE.value: _l("Fees"),
    Component.INTEREST.value: _l("Interest"),
    Component.PRINCIPAL.value: _l("Principal"),
}
LATE_FEE_KIND_LABELS = {
    LateFeeKind.NONE.value: _l("No late fee"),
    LateFeeKind.FLAT.value: _l("A fixed amount"),
    LateFeeKind.PERCENT.value: _l("A percentage of the missed installment"),
}
CHARGE_KIND_LABELS = {
    ChargeKind.LATE_FEE.value: _l("Late fee"),
    ChargeKind.PENALTY.value: _l("Penalty interest"),
}
ADJUSTMENT_KIND_LABELS = {
    AdjustmentKind.WAIVER.value: _l("Waived"),
    AdjustmentKind.PAYOFF_REBATE.value: _l("Payoff rebate"),
}
