"""Template helpers: money, dates and navigation, formatted for the request's locale."""

from __future__ import annotations

from decimal import Decimal

from babel.dates import get_timezone, get_timezone_name
from babel.support import NullTranslations
from flask import Flask, current_app, g, has_request_context
from flask_babel import (
    format_date,
    format_datetime,
    format_decimal,
    format_percent,
    get_locale,
    get_translations,
)

from portal.auth.forms import EmptyForm
from portal.i18n import LANGUAGE_NAMES
from portal.money import format_money


def money(amount_minor: int, currency: str) -> str:
    locale = get_locale() or current_app.config["DEFAULT_LOCALE"]
    return format_money(amount_minor, currency, locale)


def rate_bps(basis_points: int) -> str:
    """An annual rate stored in basis points, as a percentage: 1850 -> '18.50%'."""
    return format_percent(Decimal(basis_points) / 10_000, "#,##0.00%")


def zone_name(timezone: str) -> str:
    """An IANA time zone in the reader's words: 'Asia/Shanghai' -> '中国时间' or 'China Time'."""
    locale = get_locale() or current_app.config["DEFAULT_LOCALE"]
    try:
        return get_timezone_name(get_timezone(timezone), locale=locale)
    except LookupError:
        return timezone


def _translations() -> NullTranslations:
    """The catalog of the current locale, remembered for the rest of the request.

    Flask-Babel finds it again for every ``_()`` in a template (several context lookups and a
    locale-to-string conversion each time: a third of a small page's rendering). The cache sits
    beside Flask-Babel's own per-request locale and is used only while that locale is the same
    object, so ``force_locale`` (emails, letters) and ``refresh()`` still switch catalogs.
    """
    babel_context = g.get("_flask_babel")
    locale = getattr(babel_context, "babel_locale", None)
    cached = getattr(babel_context, "settle_translations", None)
    if locale is not None and cached is not None and cached[0] is locale:
        return cached[1]
    translations = get_translations()
    if babel_context is not None and locale is not None:
        babel_context.settle_translations = (locale, translations)
    return translations


def init_app(app: Flask) -> None:
    # Templates' _() and ngettext: Flask-Babel's callables, with the catalog looked up once.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]  # i18n extension
        gettext=lambda string: _translations().ugettext(string),
        ngettext=lambda singular, plural, n: _translations().ungettext(singular, plural, n),
        newstyle=True,
    )
    app.add_template_filter(money, "money")
    app.add_template_filter(format_date, "date")
    app.add_template_filter(format_datetime, "datetime")
    app.add_template_filter(format_decimal, "number")
    app.add_template_filter(rate_bps, "rate_bps")
    app.add_template_filter(zone_name, "zone_name")

    @app.context_processor
    def layout_context():
        if not has_request_context():  # emails rendered by workers use no page layout
            return {}
        locale = get_locale()
        return {
            "empty_form": EmptyForm(formdata=None),  # never parses the request body
            "language_names": LANGUAGE_NAMES,
            "current_locale": "zh_CN" if locale and locale.language == "zh" else "en",
            "html_lang": "zh-CN" if locale and locale.language == "zh" else "en",
        }
