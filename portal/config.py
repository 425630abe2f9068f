"""Settings read from the environment once, validated at start-up.

Nothing else in the portal reads ``os.environ``: everything goes through :func:`load_config`.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.numbers import list_currencies

SUPPORTED_LOCALES = ("zh_CN", "en")
PORTAL_ENVIRONMENTS = ("development", "test", "production")
MIN_SECRET_KEY_BYTES = 32
DEV_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 - refused in production, see validate()
DEV_AUDIT_KEY = "dev-only-audit-key-not-secret-0123456789"  # noqa: S105 - refused in production
AUDIT_KEY_MIN_BYTES = 32
# How borrowers reach the lender until in-portal chat and complaints exist: shown as tel: and
# mailto: links in the portal and as text in letters.
_SUPPORT_PHONE = re.compile(r"\+?[0-9][0-9 ()-]{3,22}[0-9]")
_SUPPORT_EMAIL = re.compile(r"[^@\s<>\"']+@[^@\s<>\"']+\.[A-Za-z]{2,}")
_SUPPORT_HOURS = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-4]):[0-5][0-9]")


class ConfigError(RuntimeError):
    """The configuration cannot run the portal; the message says what to change."""


def _flag(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_config(env: Mapping[str, str], instance_path: str) -> dict:
    """Build the Flask config from environment variables (documented in README.md)."""
    portal_env = env.get("PORTAL_ENV", "development")
    production = portal_env == "production"
    default_db = "sqlite:///" + os.path.join(instance_path, "settle.db")
    database_url = env.get("DATABASE_URL") or default_db
    # postgresql:// already means psycopg 3 in SQLAlchemy 2.1; say so explicitly anyway.
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    redis_url = env.get("REDIS_URL") or None
    config = {
        "PORTAL_ENV": portal_env,
        "SECRET_KEY": env.get("SECRET_KEY") or DEV_SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": redis_url,
        "DEFAULT_LOCALE": env.get("DEFAULT_LOCALE", "zh_CN"),
        "DEFAULT_TIMEZONE": env.get("DEFAULT_TIMEZONE", "Asia/Shanghai"),
        "DEFAULT_CURRENCY": env.get("DEFAULT_CURRENCY", "CNY").upper(),
        "BABEL_DEFAULT_LOCALE": env.get("DEFAULT_LOCALE", "zh_CN"),
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "BABEL_TRANSLATION_DIRECTORIES": "translations",
        "SMTP_HOST": env.get("SMTP_HOST", "127.0.0.1"),
        "SMTP_PORT": int(env.get("SMTP_PORT", "25")),
        "SMTP_USERNAME": env.get("SMTP_USERNAME", ""),
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": _flag(env.get("SMTP_STARTTLS")),
        # CA bundle to verify the SMTP server's certificate (default: the system's store).
        "SMTP_CA_FILE": env.get("SMTP_CA_FILE", ""),
        "MAIL_FROM": env.get("MAIL_FROM", "Settle <no-reply@settle.local>"),
        "SMTP_TIMEOUT": int(env.get("SMTP_TIMEOUT", "10")),
        # Links in emails and texts point here (the unsubscribe link, "pay now").
        "PUBLIC_URL": env.get("PUBLIC_URL", "http://127.0.0.1:5000"),
        # The lender's support line, mailbox and phone hours (HH:MM-HH:MM, DEFAULT_TIMEZONE).
        "SUPPORT_PHONE": env.get("SUPPORT_PHONE", "+86 400 800 1234"),
        "SUPPORT_EMAIL": env.get("SUPPORT_EMAIL", "support@settle.local"),
        "SUPPORT_HOURS": env.get("SUPPORT_HOURS", "09:00-21:00"),
        # SMS: "log" records what would be sent (the default); "twilio" uses Twilio's REST API.
        "SMS_PROVIDER": env.get("SMS_PROVIDER", "log"),
        "SMS_API_BASE": env.get("SMS_API_BASE", "https://api.twilio.com"),
        "SMS_ACCOUNT_SID": env.get("SMS_ACCOUNT_SID", ""),
        "SMS_AUTH_TOKEN": env.get("SMS_AUTH_TOKEN", ""),
        "SMS_FROM": env.get("SMS_FROM", ""),
        # Outbox delivery: tries before a message is dead-lettered; when a claim counts as stuck.
        "MESSAGE_MAX_ATTEMPTS": int(env.get("MESSAGE_MAX_ATTEMPTS", "5")),
        "MESSAGE_STUCK_MINUTES": int(env.get("MESSAGE_STUCK_MINUTES", "10")),
        # Without REDIS_URL, a thread in the web process runs the same tasks Celery would.
        "IN_PROCESS_WORKER": _flag(env.get("IN_PROCESS_WORKER"), default=not redis_url),
        # Sessions: signed cookies, never readable by scripts, sent over HTTPS only in production.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _flag(env.get("SESSION_COOKIE_SECURE"), default=production),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": _flag(env.get("SESSION_COOKIE_SECURE"), default=production),
        "SESSION_IDLE_TIMEOUT": timedelta(minutes=int(env.get("SESSION_IDLE_MINUTES", "30"))),
        # Forms are small; anything bigger is refused before it is parsed.
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "MAX_FORM_MEMORY_SIZE": 64 * 1024,
        "WTF_CSRF_TIME_LIMIT": 3600 * 8,
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOGIN_RATE_LIMIT": env.get("LOGIN_RATE_LIMIT", "10 per minute;50 per hour"),
        "LOGIN_EMAIL_RATE_LIMIT": env.get("LOGIN_EMAIL_RATE_LIMIT", "5 per minute"),
    }
    config.update(_audit_settings(env))
    config.update(_stripe_settings(env))
    config.update(_borrower_request_settings(env, instance_path))
    config.update(_session_and_transport_settings(env))
    config.update(_support_settings(env))
    return config


def _integer(env: Mapping[str, str], name: str, default: int, *, minimum: int) -> int:
    """An integer setting, refused with a message naming it if it is not one or too small."""
    raw = env.get(name, "").strip() or str(default)
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise ConfigError(f"{name}={raw!r}: use a whole number of at least {minimum}.")
    return value


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    """A positive duration in seconds (decimals allowed), refused with a message naming it."""
    raw = env.get(name, "").strip() or str(default)
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 0 < value <= 600:
        raise ConfigError(f"{name}={raw!r}: use a number of seconds above 0 and at most 600.")
    return value


def _stripe_settings(env: Mapping[str, str]) -> dict:
    """Stripe's keys (none: the sandbox checkout), the pay page's smallest amount, and how long a
    borrower waits for Stripe at most: timeouts and bounded retries."""
    return {
        "STRIPE_SECRET_KEY": env.get("STRIPE_SECRET_KEY", ""),
        "STRIPE_PUBLISHABLE_KEY": env.get("STRIPE_PUBLISHABLE_KEY", ""),
        "STRIPE_WEBHOOK_SECRET": env.get("STRIPE_WEBHOOK_SECRET", ""),
        "STRIPE_API_BASE": env.get("STRIPE_API_BASE", ""),
        # The smallest "other amount" on the pay page, in whole units of the loan's currency.
        "PAYMENT_MINIMUM_UNITS": _integer(env, "PAYMENT_MINIMUM_UNITS", 1, minimum=1),
        "STRIPE_CONNECT_TIMEOUT_SECONDS": _seconds(env, "STRIPE_CONNECT_TIMEOUT_SECONDS", 5),
        "STRIPE_TIMEOUT_SECONDS": _seconds(env, "STRIPE_TIMEOUT_SECONDS", 15),
        # Retries resend the same idempotency key: a create is never performed twice.
        "STRIPE_MAX_NETWORK_RETRIES": _integer(env, "STRIPE_MAX_NETWORK_RETRIES", 1, minimum=0),
    }


def _borrower_request_settings(env: Mapping[str, str], instance_path: str) -> dict:
    """What borrowers ask for from the portal: promises to pay, hardship reviews, complaints."""
    return {
        # Promises to pay from the portal: at most this many days ahead, at least this many whole
        # units of the loan's currency.
        "PROMISE_MAX_DAYS": _integer(env, "PROMISE_MAX_DAYS", 14, minimum=1),
        "PROMISE_MINIMUM_UNITS": _integer(env, "PROMISE_MINIMUM_UNITS", 1, minimum=1),
        # Hardship: how long the review holds collection contact at most; the documents' limits
        # and where they are stored (outside static/; default: the instance folder).
        "HARDSHIP_HOLD_DAYS": _integer(env, "HARDSHIP_HOLD_DAYS", 14, minimum=1),
        "HARDSHIP_MAX_FILE_BYTES": _integer(
            env, "HARDSHIP_MAX_FILE_BYTES", 5 * 1024 * 1024, minimum=1024
        ),
        "HARDSHIP_MAX_FILES": _integer(env, "HARDSHIP_MAX_FILES", 3, minimum=1),
        "UPLOAD_DIR": env.get("UPLOAD_DIR") or os.path.join(instance_path, "uploads"),
        # Complaints (attachments share the hardship limits): how long after its resolution a
        # complaint may be reopened, and the acknowledgement target in business days.
        "COMPLAINT_REOPEN_DAYS": _integer(env, "COMPLAINT_REOPEN_DAYS", 30, minimum=0),
        "COMPLAINT_ACKNOWLEDGE_DAYS": _integer(env, "COMPLAINT_ACKNOWLEDGE_DAYS", 1, minimum=1),
    }


def _session_and_transport_settings(env: Mapping[str, str]) -> dict:
    """Hardening settings (issue 9): session lifetime, proxies, TLS for SMTP."""
    max_lifetime = timedelta(hours=_integer(env, "SESSION_MAX_HOURS", 12, minimum=1))
    smtp_ssl = _flag(env.get("SMTP_SSL"))
    settings = {
        # However active, a session ends this long after sign-in (portal/auth/sessions.py).
        "SESSION_MAX_LIFETIME": max_lifetime,
        "PERMANENT_SESSION_LIFETIME": max_lifetime,
        # SMTP over implicit TLS (smtplib.SMTP_SSL, port 465 unless SMTP_PORT says otherwise).
        "SMTP_SSL": smtp_ssl,
        # Reverse proxies in front of the portal whose X-Forwarded-For/Proto/Host are believed
        # (Werkzeug's ProxyFix, applied in create_app); 0 trusts no header.
        "TRUSTED_PROXIES": _integer(env, "TRUSTED_PROXIES", 0, minimum=0),
    }
    if smtp_ssl and not env.get("SMTP_PORT"):
        settings["SMTP_PORT"] = 465
    return settings


def _support_settings(env: Mapping[str, str]) -> dict:
    """The support inbox (issue 12): how many conversations an agent holds at once, and which
    other origins may open a Socket.IO connection (none by default: the portal's own only)."""
    origins = [o.strip() for o in env.get("SOCKETIO_ALLOWED_ORIGINS", "").split(",") if o.strip()]
    return {
        "SUPPORT_AGENT_CAPACITY": _integer(env, "SUPPORT_AGENT_CAPACITY", 4, minimum=1),
        # Empty: python-engineio admits the same origin only. "*" is refused by validate().
        "SOCKETIO_ALLOWED_ORIGINS": origins,
        # "threading" holds a thread per open WebSocket (gunicorn gthread, Werkzeug, the tests);
        # another mode needs a server that runs it (and gevent a monkey-patched process).
        "SOCKETIO_ASYNC_MODE": env.get("SOCKETIO_ASYNC_MODE", "threading"),
    }


def _validate_portal_env(config: Mapping) -> None:
    if config["PORTAL_ENV"] not in PORTAL_ENVIRONMENTS:
        raise ConfigError(
            f"PORTAL_ENV={config['PORTAL_ENV']!r} is not an environment; use one of "
            f"{', '.join(PORTAL_ENVIRONMENTS)} (exactly, in lower case)."
        )


def _validate_transport(config: Mapping) -> None:
    """In production, nothing that travels in clear text: cookies, links, SMTP credentials."""
    if config["SMTP_STARTTLS"] and config["SMTP_SSL"]:
        raise ConfigError(
            "Set SMTP_STARTTLS (upgrade a plain connection, usually port 587) or SMTP_SSL "
            "(TLS from the start, usually port 465), not both."
        )
    if config["PORTAL_ENV"] != "production":
        return
    if not (config["SESSION_COOKIE_SECURE"] and config["REMEMBER_COOKIE_SECURE"]):
        raise ConfigError(
            "SESSION_COOKIE_SECURE cannot be turned off in production: session cookies are "
            "only sent over HTTPS. Remove the setting (or serve the portal over HTTPS)."
        )
    if not str(config["PUBLIC_URL"]).startswith("https://"):
        raise ConfigError(
            f"PUBLIC_URL={config['PUBLIC_URL']!r}: production links in emails and texts must "
            "use https:// (for example PUBLIC_URL=https://settle.example.com)."
        )
    if config["SMTP_USERNAME"] and not (config["SMTP_STARTTLS"] or config["SMTP_SSL"]):
        raise ConfigError(
            "SMTP_USERNAME is set but the SMTP connection is not encrypted: set SMTP_STARTTLS=1 "
            "or SMTP_SSL=1 so the password is never sent in clear text."
        )


def validate(config: Mapping) -> None:
    """Refuse settings that would run the portal unsafely or not at all."""
    _validate_portal_env(config)
    production = config["PORTAL_ENV"] == "production"
    secret_key = config["SECRET_KEY"]
    key_bytes = secret_key.encode() if isinstance(secret_key, str) else bytes(secret_key or b"")
    if production and (secret_key == DEV_SECRET_KEY or len(key_bytes) < MIN_SECRET_KEY_BYTES):
        raise ConfigError(
            f"SECRET_KEY must be set to a random value of at least {MIN_SECRET_KEY_BYTES} bytes "
            "in production (for example: python -c 'import secrets; "
            "print(secrets.token_hex(32))')."
        )
    if production and config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        raise ConfigError(
            "SQLite is the embedded default for demos and development; production needs "
            "PostgreSQL: set DATABASE_URL=postgresql://user:password@host/dbname."
        )
    _validate_transport(config)
    if config["SMS_PROVIDER"] not in ("log", "twilio"):
        raise ConfigError(f"SMS_PROVIDER={config['SMS_PROVIDER']!r}: use log or twilio.")
    if config["SMS_PROVIDER"] == "twilio" and not (
        config["SMS_ACCOUNT_SID"] and config["SMS_AUTH_TOKEN"] and config["SMS_FROM"]
    ):
        raise ConfigError("SMS_PROVIDER=twilio needs SMS_ACCOUNT_SID, SMS_AUTH_TOKEN and SMS_FROM.")
    if config["DEFAULT_LOCALE"] not in SUPPORTED_LOCALES:
        raise ConfigError(
            f"DEFAULT_LOCALE={config['DEFAULT_LOCALE']!r} is not supported; "
            f"use one of {', '.join(SUPPORTED_LOCALES)}."
        )
    try:
        ZoneInfo(config["DEFAULT_TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ConfigError(
            f"DEFAULT_TIMEZONE={config['DEFAULT_TIMEZONE']!r} is not an IANA time zone "
            "(for example Asia/Shanghai)."
        ) from error
    _validate_support(config)
    if config["DEFAULT_CURRENCY"] not in list_currencies():
        raise ConfigError(
            f"DEFAULT_CURRENCY={config['DEFAULT_CURRENCY']!r} is not an ISO 4217 code."
        )
    _validate_audit(config, production=production)


# --- The audit chain's key -------------------------------------------------------------------


def _audit_settings(env: Mapping[str, str]) -> dict:
    unkeyed = env.get("AUDIT_UNKEYED_EVENTS", "0")
    if not unkeyed.isascii() or not unkeyed.isdigit():
        raise ConfigError(
            f"AUDIT_UNKEYED_EVENTS={unkeyed!r}: use the number of audit events written "
            "before AUDIT_KEY (0 if none)."
        )
    return {
        # Signs the audit chain (HMAC-SHA256). Outside the database on purpose: whoever can
        # write the database but not read the environment cannot rewrite the log undetected.
        "AUDIT_KEY": env.get("AUDIT_KEY") or DEV_AUDIT_KEY,
        # Events written before the key existed (migration 0006 prints how many): only these
        # may carry plain SHA-256. A fresh installation has none.
        "AUDIT_UNKEYED_EVENTS": int(unkeyed),
    }


def _validate_audit(config: Mapping, *, production: bool) -> None:
    key = config["AUDIT_KEY"]
    if production and (key == DEV_AUDIT_KEY or len(key.encode()) < AUDIT_KEY_MIN_BYTES):
        raise ConfigError(
            f"AUDIT_KEY must be set to at least {AUDIT_KEY_MIN_BYTES} random bytes in production "
            "(for example: python -c 'import secrets; print(secrets.token_hex(32))'); keep it "
            "outside the database and never change it: it signs the audit log."
        )
    if key == DEV_AUDIT_KEY and not config.get("TESTING"):
        logging.getLogger(__name__).warning(
            "AUDIT_KEY is not set: the audit log is signed with the public development key."
        )


def _validate_support(config: Mapping) -> None:
    if not _SUPPORT_PHONE.fullmatch(config["SUPPORT_PHONE"]):
        raise ConfigError(
            f"SUPPORT_PHONE={config['SUPPORT_PHONE']!r} is not a phone number "
            "(digits, spaces, dashes, an optional leading +; for example +86 400 800 1234)."
        )
    if not _SUPPORT_EMAIL.fullmatch(config["SUPPORT_EMAIL"]):
        raise ConfigError(f"SUPPORT_EMAIL={config['SUPPORT_EMAIL']!r} is not an email address.")
    if not _SUPPORT_HOURS.fullmatch(config["SUPPORT_HOURS"]):
        raise ConfigError(
            f"SUPPORT_HOURS={config['SUPPORT_HOURS']!r}: use HH:MM-HH:MM, for example 09:00-21:00."
        )
    origins = config.get("SOCKETIO_ALLOWED_ORIGINS") or []
    if "*" in origins or any(not str(o).startswith(("http://", "https://")) for o in origins):
        raise ConfigError(
            f"SOCKETIO_ALLOWED_ORIGINS={','.join(map(str, origins))!r}: list origins such as "
            "https://settle.example.com, separated by commas; '*' is never allowed."
        )
