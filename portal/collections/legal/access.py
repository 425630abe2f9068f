"""The staff member acting in the legal workflow, as plain values.

Which case they may work on is the case pages' rule: every legal service loads its case through
``portal.collections.cases.access.authorized_case``, so the object check is part of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.auth.models import Role


@dataclass(frozen=True)
class Actor:
    """The staff member acting, as plain values (safe to keep after the session is cleared)."""

    id: int
    role: Role
    name: str

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN
