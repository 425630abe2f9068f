"""Words for the ledger's codes shown to borrowers and staff (components of what is owed)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.loans.models import Component

COMPONENT_LABELS = {
    Component.LATE_CHARGE.value: _l("Late charges"),
    Component.FEE.value: _l("Fees"),
    Component.INTEREST.value: _l("Interest"),
    Component.PRINCIPAL.value: _l("Principal"),
}
