"""Roles in words, for staff pages that name a person's role."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.auth.models import Role

ROLE_LABELS = {
    Role.BORROWER.value: _l("Borrower"),
    Role.AGENT.value: _l("Support agent"),
    Role.COLLECTOR.value: _l("Collector"),
    Role.ADMIN.value: _l("Admin"),
}
