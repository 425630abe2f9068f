"""Security headers on every response: one policy, set in one after-request hook.

Scripts run only from the portal's own static files (no inline script, no event-handler
attribute, no ``javascript:`` URL); data for a page's script travels in a
``<script type="application/json">`` block, which browsers do not execute. Every response
except a static file is ``no-store``: pages, downloads and JSON show a borrower's data to a
signed-in user, and a signed-out page carries a CSRF token.
"""

from __future__ import annotations

from flask import Flask, Response, request

# Third parties allowed to run code, be framed, be fetched or receive a form: Stripe only, and
# only when Stripe keys are configured (the sandbox checkout needs nothing from outside).
# Stripe.js runs from js.stripe.com, frames its fields from there and 3-D Secure pages from
# hooks.stripe.com, and talks to api.stripe.com.
SCRIPT_SOURCES: tuple[str, ...] = ("https://js.stripe.com",)
FRAME_SOURCES: tuple[str, ...] = ("https://js.stripe.com", "https://hooks.stripe.com")
CONNECT_SOURCES: tuple[str, ...] = ("https://api.stripe.com",)
FORM_SOURCES: tuple[str, ...] = ("https://hooks.stripe.com",)

HSTS = "max-age=31536000; includeSubDomains"


def content_security_policy(*, stripe: bool = False, framable: bool = False) -> str:
    """The portal's Content-Security-Policy header value; ``stripe`` lets Stripe.js work,
    ``framable`` lets the portal's own pages frame the page (never another site)."""

    def allow(sources: tuple[str, ...]) -> tuple[str, ...]:
        return sources if stripe else ()

    directives = {
        "default-src": ("'self'",),
        "script-src": ("'self'", *allow(SCRIPT_SOURCES)),
        # Style elements from our files only; style attributes are allowed because the template
        # editor previews an e-mail (inline styles, as e-mail clients need) in a sandboxed
        # srcdoc frame, which inherits this policy. Styles cannot run code.
        "style-src": ("'self'",),
        "style-src-attr": ("'unsafe-inline'",),
        "img-src": ("'self'", "data:"),
        "font-src": ("'self'",),
        # fetch, and Socket.IO's ws/wss to the same origin
        "connect-src": ("'self'", *allow(CONNECT_SOURCES)),
        "frame-src": ("'self'", *allow(FRAME_SOURCES)),
        "object-src": ("'none'",),
        "base-uri": ("'self'",),
        "form-action": ("'self'", *allow(FORM_SOURCES)),
        "frame-ancestors": ("'self'",) if framable else ("'none'",),
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


# The borrower's chat pages open inside the launcher's panel on every borrower page.
FRAMABLE_BLUEPRINT = "support"


def init_app(app: Flask) -> None:
    stripe = bool(app.config["STRIPE_SECRET_KEY"] and app.config["STRIPE_PUBLISHABLE_KEY"])
    policy = content_security_policy(stripe=stripe)
    framable_policy = content_security_policy(stripe=stripe, framable=True)
    production = app.config["PORTAL_ENV"] == "production"

    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        if request.blueprint == FRAMABLE_BLUEPRINT:  # the chat launcher's panel, same origin only
            headers["Content-Security-Policy"] = framable_policy
            headers["X-Frame-Options"] = "SAMEORIGIN"
        else:
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
