"""Words for the loan codes borrowers and staff see: an installment's components.

The one home of these labels: the borrower's loan page, dashboard and notices read them (through
the ``component_label`` template global), as should any export. Lazily translated, so each page
shows them in the reader's language; an unknown code is shown as itself.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.loans.models import Component

COMPONENT_LABELS = {
    Component.PRINCIPAL.value: _l("Principal"),
    Component.INTEREST.value: _l("Interest"),
    Component.LATE_CHARGE.value: _l("Late charges"),
    Component.FEE.value: _l("Fees"),
}
# The order a borrower reads what they owe: what they borrowed first, charges after.
OWED_ORDER = (Component.PRINCIPAL, Component.INTEREST, Component.LATE_CHARGE, Component.FEE)


def component_label(component: Component | str) -> str:
    """A component in words: ``late_charge`` -> "Late charges"."""
    code = component.value if isinstance(component, Component) else component
    return str(COMPONENT_LABELS.get(code, code))


def owed_components() -> tuple[Component, ...]:
    """The components in the order a borrower reads what they owe (a template global)."""
    return OWED_ORDER
