"""Personal data shown masked: one rule per kind, the same on every page and document.

A phone keeps the first three and last four digits of its national number (``138****8000``);
an email keeps its first character and its domain (``w***@demo.test``). Nothing that is not
needed to tell two borrowers apart is shown.
"""

from __future__ import annotations

import re


def mask_phone(phone: str | None) -> str:
    """``+8613800138000`` -> ``138****8000``: the first three and last four digits of the
    national number (a +86 prefix is dropped); short numbers keep only their last two.
    Empty for no number."""
    if not phone:
        return ""
    digits = re.sub(r"\D", "", phone)
    if phone.startswith("+86") and len(digits) > 11:
        digits = digits[2:]
    if len(digits) < 8:
        return "*" * max(len(digits) - 2, 2) + digits[-2:]
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_email(email: str | None) -> str:
    """``wang@demo.test`` -> ``w***@demo.test``: the first character and the domain.
    Empty for no address."""
    if not email or "@" not in email:
        return "***" if email else ""
    local, domain = email.rsplit("@", 1)
    return f"{local[:1]}***@{domain}"


def mask_reference(reference: str | None) -> str:
    """``pi_3PzX9a2eZvKYlo2C1abc4321`` -> ``pi_…4321``: a processor reference keeps its kind
    prefix and its last four characters, enough to match it with a bank or card statement.
    Empty for no reference."""
    if not reference:
        return ""
    prefix, _, rest = reference.rpartition("_") if "_" in reference[:8] else ("", "", reference)
    if len(rest) <= 4:
        return reference
    return f"{prefix}_…{rest[-4:]}" if prefix else f"…{rest[-4:]}"
