"""Security headers on every response: one policy, set in one after-request hook.

Scripts run only from the portal's own static files (no inline script, no event-handler
attribute, no ``javascript:`` URL); data for a page's script travels in a
``<script type="application/json">`` block, which browsers do not execute. Every response
except a static file is ``no-store``: pages, downloads and JSON show a borrower's data to a
signed-in user, and a signed-out page carries a CSRF token.
"""

from __future__ import annotations

from flask import Flask, Response, request

# Third parties allowed to run code or be framed. The ONE place to add Stripe.js (step 6):
# "https://js.stripe.com" in both, plus "https://hooks.stripe.com" in FRAME_SOURCES.
SCRIPT_SOURCES: tuple[str, ...] = ()
FRAME_SOURCES: tuple[str, ...] = ()

HSTS = "max-age=31536000; includeSubDomains"


def content_security_policy() -> str:
    """The portal's Content-Security-Policy header value."""
    directives = {
        "default-src": ("'self'",),
        "script-src": ("'self'", *SCRIPT_SOURCES),
        # Style elements from our files only; style attributes are allowed because the template
        # editor previews an e-mail (inline styles, as e-mail clients need) in a sandboxed
        # srcdoc frame, which inherits this policy. Styles cannot run code.
        "style-src": ("'self'",),
        "style-src-attr": ("'unsafe-inline'",),
        "img-src": ("'self'", "data:"),
        "font-src": ("'self'",),
        "connect-src": ("'self'",),  # fetch, and Socket.IO's ws/wss to the same origin
        "frame-src": ("'self'", *FRAME_SOURCES),
        "object-src": ("'none'",),
        "base-uri": ("'self'",),
        "form-action": ("'self'",),
        "frame-ancestors": ("'none'",),
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def init_app(app: Flask) -> None:
    policy = content_security_policy()
    production = app.config["PORTAL_ENV"] == "production"

    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        headers["Content-Security-Policy"] = policy
        headers["X-Frame-Options"] = "DENY"
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "same-origin"
        if production:
            headers["Strict-Transport-Security"] = HSTS
        if request.endpoint != "static":  # static files keep Flask's normal caching
            headers["Cache-Control"] = "no-store"
            headers.pop("Expires", None)
            headers.pop("Pragma", None)
        return response
