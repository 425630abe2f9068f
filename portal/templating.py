"""Template helpers: money, dates and navigation, formatted for the request's locale."""

from __future__ import annotations

from decimal import Decimal

from flask import Flask, current_app, has_request_context
from flask_babel import format_date, format_datetime, format_decimal, format_percent, get_locale

from portal.auth.forms import EmptyForm
from portal.i18n import LANGUAGE_NAMES
from portal.money import format_money


def money(amount_minor: int, currency: str) -> str:
    locale = get_locale() or current_app.config["DEFAULT_LOCALE"]
    return format_money(amount_minor, currency, locale)


def rate_bps(basis_points: int) -> str:
    """An annual rate stored in basis points, as a percentage: 1850 -> '18.50%'."""
    return format_percent(Decimal(basis_points) / 10_000, "#,##0.00%")


def init_app(app: Flask) -> None:
    app.add_template_filter(money, "money")
    app.add_template_filter(format_date, "date")
    app.add_template_filter(format_datetime, "datetime")
    app.add_template_filter(format_decimal, "number")
    app.add_template_filter(rate_bps, "rate_bps")

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
