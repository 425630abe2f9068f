"""Staff pages of the messaging capability: templates, prohibited wording, rulebooks, the log.

Endpoints (blueprint ``messaging_staff``, under /staff/messaging):
``templates``, ``template_edit``/``template_save``, ``template_preview``, ``terms``/``term_add``,
``rulebooks``, ``lender_rulebook_save``, ``rulebook_save``, ``messages``.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("messaging_staff", __name__, url_prefix="/staff/messaging")

# The route modules attach their views to ``bp`` when imported.
from portal.messaging.staff import (  # noqa: E402
    log_routes,
    rulebook_routes,
    templates_routes,
    terms_routes,
)

__all__ = ["bp", "log_routes", "rulebook_routes", "templates_routes", "terms_routes"]
