from datetime import timedelta

import pytest

from portal import create_app
from portal.config import DEV_SECRET_KEY, ConfigError, load_config, validate


def _config(**env):
    return load_config(env, "/srv/instance")


def test_defaults_are_the_embedded_setup():
    """Without settings: SQLite in the instance folder, Chinese, Shanghai time, yuan."""
    config = _config()
    assert config["SQLALCHEMY_DATABASE_URI"] == "sqlite:////srv/instance/settle.db"
    assert (config["DEFAULT_LOCALE"], config["DEFAULT_TIMEZONE"], config["DEFAULT_CURRENCY"]) == (
        "zh_CN",
        "Asia/Shanghai",
        "CNY",
    )
    assert config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert (config["SUPPORT_PHONE"], config["SUPPORT_EMAIL"], config["SUPPORT_HOURS"]) == (
        "+86 400 800 1234",
        "support@settle.local",
        "09:00-21:00",
    )
    validate(config)


def test_redis_url_moves_rate_limits_to_redis():
    """With REDIS_URL the login limiter shares its counters through Redis."""
    config = _config(REDIS_URL="redis://127.0.0.1:6379/0")
    assert config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"


def test_postgresql_url_uses_psycopg3():
    """postgresql:// URLs are spelled out as the psycopg 3 driver."""
    config = _config(DATABASE_URL="postgresql://u:p@db/settle")
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db/settle"


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"DATABASE_URL": "postgresql://db/settle"}, "SECRET_KEY must be set"),
        (
            {"DATABASE_URL": "postgresql://db/settle", "SECRET_KEY": DEV_SECRET_KEY},
            "SECRET_KEY must be set",
        ),
        ({"SECRET_KEY": "s" * 64}, "production needs PostgreSQL"),
    ],
)
def test_production_refuses_unsafe_settings(env, says):
    """PORTAL_ENV=production refuses a missing/default secret key and SQLite, saying why."""
    with pytest.raises(ConfigError, match=says):
        validate(_config(PORTAL_ENV="production", **env))


PRODUCTION = {
    "PORTAL_ENV": "production",
    "SECRET_KEY": "s" * 32,
    "DATABASE_URL": "postgresql://db/settle",
    "PUBLIC_URL": "https://settle.example.com",
    "AUDIT_KEY": "a" * 32,
}


def test_production_with_real_settings_starts():
    """A 32-byte secret key, PostgreSQL and an https PUBLIC_URL pass, with secure cookies on."""
    config = _config(**PRODUCTION)
    validate(config)
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["REMEMBER_COOKIE_SECURE"] is True


@pytest.mark.parametrize(
    "value", ["Production", "PRODUCTION", "prod", " production", "staging", "dev", ""]
)
def test_portal_env_accepts_only_its_three_names(value):
    """Any PORTAL_ENV but development, test and production stops the start, naming the choices
    (a misspelt production must not run in development mode with the public key)."""
    with pytest.raises(ConfigError, match="PORTAL_ENV=.*development, test, production"):
        validate(_config(**{**PRODUCTION, "PORTAL_ENV": value}))
    with pytest.raises(ConfigError, match="PORTAL_ENV"):
        create_app({"PORTAL_ENV": value})
    for accepted in ("development", "test"):
        validate(_config(PORTAL_ENV=accepted))


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"SECRET_KEY": "s" * 31}, "SECRET_KEY must be set to a random value of at least 32"),
        ({"SESSION_COOKIE_SECURE": "0"}, "SESSION_COOKIE_SECURE cannot be turned off"),
        ({"SESSION_COOKIE_SECURE": "false"}, "SESSION_COOKIE_SECURE cannot be turned off"),
        ({"PUBLIC_URL": "http://settle.example.com"}, "PUBLIC_URL=.*https://"),
        ({"PUBLIC_URL": ""}, "PUBLIC_URL"),
    ],
)
def test_production_refuses_clear_text_and_weak_keys(env, says):
    """Production refuses a short key, insecure cookies and an http PUBLIC_URL, saying what to
    change."""
    with pytest.raises(ConfigError, match=says):
        validate(_config(**{**PRODUCTION, **env}))


def test_production_cookies_cannot_be_made_insecure_by_an_override():
    """An override (as create_app takes) cannot switch secure cookies off in production either."""
    config = {**_config(**PRODUCTION), "SESSION_COOKIE_SECURE": False}
    with pytest.raises(ConfigError, match="SESSION_COOKIE_SECURE"):
        validate(config)


def test_production_sends_smtp_credentials_only_over_tls():
    """An SMTP password over a plain connection is refused; STARTTLS or implicit TLS pass."""
    credentials = {**PRODUCTION, "SMTP_USERNAME": "settle", "SMTP_PASSWORD": "x"}
    with pytest.raises(ConfigError, match="SMTP_STARTTLS=1 or SMTP_SSL=1"):
        validate(_config(**credentials))
    validate(_config(**credentials, SMTP_STARTTLS="1"))
    validate(_config(**credentials, SMTP_SSL="1"))


def test_implicit_tls_defaults_to_port_465_and_excludes_starttls():
    """SMTP_SSL uses port 465 unless SMTP_PORT says otherwise; with SMTP_STARTTLS it is refused."""
    assert _config(SMTP_SSL="1")["SMTP_PORT"] == 465
    assert _config(SMTP_SSL="1", SMTP_PORT="2465")["SMTP_PORT"] == 2465
    assert _config()["SMTP_PORT"] == 25
    with pytest.raises(ConfigError, match="not both"):
        validate(_config(SMTP_SSL="1", SMTP_STARTTLS="1"))


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"SESSION_MAX_HOURS": "0"}, "SESSION_MAX_HOURS='0'"),
        ({"SESSION_MAX_HOURS": "twelve"}, "SESSION_MAX_HOURS"),
        ({"TRUSTED_PROXIES": "-1"}, "TRUSTED_PROXIES='-1'"),
        ({"TRUSTED_PROXIES": "yes"}, "TRUSTED_PROXIES"),
    ],
)
def test_numeric_hardening_settings_are_validated(env, says):
    """A session lifetime under an hour or a proxy count that is not a whole number is refused."""
    with pytest.raises(ConfigError, match=says):
        _config(**env)


def test_session_lifetime_and_proxies_are_read():
    """SESSION_MAX_HOURS and TRUSTED_PROXIES are read from the environment."""
    config = _config(SESSION_MAX_HOURS="8", TRUSTED_PROXIES="2")
    assert config["SESSION_MAX_LIFETIME"] == timedelta(hours=8)
    assert config["TRUSTED_PROXIES"] == 2


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"DEFAULT_LOCALE": "fr"}, "DEFAULT_LOCALE"),
        ({"DEFAULT_TIMEZONE": "Mars/Olympus"}, "DEFAULT_TIMEZONE"),
        ({"DEFAULT_CURRENCY": "XYZ"}, "DEFAULT_CURRENCY"),
        ({"SUPPORT_PHONE": "call us"}, "SUPPORT_PHONE"),
        ({"SUPPORT_PHONE": "javascript:alert(1)"}, "SUPPORT_PHONE"),
        ({"SUPPORT_EMAIL": "support"}, "SUPPORT_EMAIL"),
        ({"SUPPORT_EMAIL": "a@b.cn?subject=x"}, "SUPPORT_EMAIL"),
        ({"SUPPORT_HOURS": "9 to 5"}, "SUPPORT_HOURS"),
    ],
)
def test_bad_defaults_are_refused(env, says):
    """Unknown locale, time zone or currency, or support contacts that are not a phone number,
    an email address or HH:MM-HH:MM hours, stop the start with a message naming it."""
    with pytest.raises(ConfigError, match=says):
        validate(_config(**env))


def test_create_app_validates_overrides():
    """create_app() refuses a bad configuration rather than starting half-right."""
    with pytest.raises(ConfigError):
        create_app({"PORTAL_ENV": "production", "SECRET_KEY": DEV_SECRET_KEY})


def test_support_inbox_settings_are_read_and_checked():
    """Capacity 4 and the portal's own origin by default; listed origins are read; "*", a bare
    host or a capacity under 1 stop the start."""
    config = _config()
    assert (config["SUPPORT_AGENT_CAPACITY"], config["SOCKETIO_ALLOWED_ORIGINS"]) == (4, [])
    config = _config(
        SUPPORT_AGENT_CAPACITY="6",
        SOCKETIO_ALLOWED_ORIGINS="https://settle.example.com, https://m.settle.example.com",
    )
    validate(config)
    assert config["SUPPORT_AGENT_CAPACITY"] == 6
    assert config["SOCKETIO_ALLOWED_ORIGINS"] == [
        "https://settle.example.com",
        "https://m.settle.example.com",
    ]
    for origins in ("*", "https://settle.example.com,*", "settle.example.com"):
        with pytest.raises(ConfigError, match="SOCKETIO_ALLOWED_ORIGINS"):
            validate(_config(SOCKETIO_ALLOWED_ORIGINS=origins))
    with pytest.raises(ConfigError, match="SUPPORT_AGENT_CAPACITY"):
        _config(SUPPORT_AGENT_CAPACITY="0")
