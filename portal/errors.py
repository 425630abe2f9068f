"""One place that turns errors into localized pages, or JSON for API and fetch requests."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from portal.domain import DomainError
from portal.extensions import db


def _wants_json() -> bool:
    if request.path.startswith("/api/") or request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def _messages() -> dict[int, tuple[str, str]]:
    # Built per request so that each title and text is in the request's language.
    return {
        400: (_("Bad request"), _("Something in the request was not right. Please try again.")),
        403: (_("Not allowed"), _("Your account does not have access to this page.")),
        404: (_("Page not found"), _("We could not find that page.")),
        405: (_("Not allowed"), _("This page cannot be used that way.")),
        413: (_("Too large"), _("What you sent is too large. Please shorten it and try again.")),
        422: (_("Cannot do that"), _("The request could not be completed.")),
        429: (_("Too many attempts"), _("Too many attempts. Please wait a minute and try again.")),
        500: (
            _("Something went wrong"),
            _("Something went wrong on our side. Nothing was changed; please try again."),
        ),
    }


def render_error(status: int, message: str | None = None):
    title, default_text = _messages().get(status, _messages()[500 if status >= 500 else 400])
    text = message or default_text
    if _wants_json():
        return jsonify(error={"status": status, "title": title, "message": text}), status
    return render_template("errors/error.html", status=status, title=title, message=text), status


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return render_error(
            400,
            _(
                "Your form expired or was sent from elsewhere. "
                "Please reload the page and try again."
            ),
        )

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        return render_error(error.status_code, str(error.message))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        return render_error(error.code or 500)

    @app.errorhandler(InternalServerError)
    def unexpected_error(error: InternalServerError):
        db.session.rollback()
        return render_error(500)
