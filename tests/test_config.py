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


def test_production_with_real_settings_starts():
    """A proper secret key and PostgreSQL pass, with secure cookies switched on."""
    config = _config(
        PORTAL_ENV="production", SECRET_KEY="s" * 64, DATABASE_URL="postgresql://db/settle"
    )
    validate(config)
    assert config["SESSION_COOKIE_SECURE"] is True


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
