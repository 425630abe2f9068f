"""Sample variables for previewing a template: believable values for every variable a purpose
allows, written the way a real message writes them in the template's locale.

Money is formatted with ``portal.money.format_money`` and dates with Babel, in the template's
locale (not the admin's): a Chinese template previews with Chinese dates even when an English
speaking admin edits it. The borrower's name is the first demo borrower's when the demo data is
there, otherwise a made-up name.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from babel.dates import format_date, format_datetime
from babel.lists import format_list
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from portal.auth.models import Role, User
from portal.extensions import db
from portal.messaging.purposes import purpose
from portal.money import format_money
from portal.timeutil import local_today

DEMO_EMAIL_DOMAIN = "@demo.test"
SYNTHETIC_NAMES = {"zh_CN": "张伟", "en": "Alex Chen"}
CONTACT_NAMES = {"zh_CN": "李娜", "en": "Sam Taylor"}
LAWYER_NAMES = {"zh_CN": "周律师", "en": "Jordan Lee"}
AGENCY_NAMES = {"zh_CN": "诚信资产管理有限公司", "en": "Prudent Recoveries Ltd"}

# Minor units; the overdue parts add up to the overdue total.
PRINCIPAL_OVERDUE = 200_000
INTEREST_OVERDUE = 8_000
FEES_OVERDUE = 3_000
LATE_CHARGES_OVERDUE = 1_500
AMOUNT_DUE = 105_500
AMOUNT_PAID = 50_000
OUTSTANDING = 420_000
PLAN_INSTALMENT = 70_000
PLAN_COUNT = 3
DAYS_PAST_DUE = 43


def sample_borrower_name(locale: str) -> str:
    """The first demo borrower's name (by id), or a synthetic name for ``locale``."""
    name = db.session.scalar(
        select(User.name)
        .where(User.role == Role.BORROWER, User.email.endswith(DEMO_EMAIL_DOMAIN))
        .order_by(User.id)
        .limit(1)
    )
    return name or SYNTHETIC_NAMES.get(locale, SYNTHETIC_NAMES["en"])


def sample_variables(purpose_code: str, locale: str, *, now: datetime) -> dict[str, str]:
    """A value for every variable ``purpose_code`` allows, formatted for ``locale``.

    Reads PUBLIC_URL, DEFAULT_CURRENCY and DEFAULT_TIMEZONE from the app config; one query (the
    sample name). Raises KeyError for an unknown purpose.
    """
    spec = purpose(purpose_code)
    config = current_app.config
    currency = config["DEFAULT_CURRENCY"]
    zone = config["DEFAULT_TIMEZONE"]
    today = local_today(zone, now)
    url = config["PUBLIC_URL"].rstrip("/")

    def money(minor: int) -> str:
        return format_money(minor, currency, locale)

    def day(offset: int) -> str:
        return format_date(today + timedelta(days=offset), "long", locale=locale)

    with force_locale(locale):
        plan_summary = _(
            "%(count)s monthly payments of %(amount)s, the first on %(date)s",
            count=PLAN_COUNT,
            amount=money(PLAN_INSTALMENT),
            date=day(7),
        )
        # The email receipt's allocation lines (portal/payments/receipts/services.py).
        allocation_summary = _(
            "Installment %(number)s (due %(date)s) · %(component)s: %(amount)s",
            number=1,
            date=day(-DAYS_PAST_DUE),
            component=_("Principal"),
            amount=money(AMOUNT_PAID),
        )
        decision = _("Collection paused")
        decision_reason = _("A month to recover: we will not contact you about this loan.")
    values = {
        "borrower_name": sample_borrower_name(locale),
        "portal_url": url + "/",
        "pay_url": url + "/loans/1",
        "plans_url": url + "/loans/1/plans",
        "plan_installment": f"2/{PLAN_COUNT}",
        "loan_reference": "LN-DEMO-0001",
        "amount_due": money(AMOUNT_DUE),
        "amount_overdue": money(
            PRINCIPAL_OVERDUE + INTEREST_OVERDUE + FEES_OVERDUE + LATE_CHARGES_OVERDUE
        ),
        "principal_overdue": money(PRINCIPAL_OVERDUE),
        "interest_overdue": money(INTEREST_OVERDUE),
        "fees_overdue": money(FEES_OVERDUE),
        "late_charges_overdue": money(LATE_CHARGES_OVERDUE),
        "days_past_due": str(DAYS_PAST_DUE),
        "due_date": day(3),
        "days_until_due": "3",
        "due_dates": format_list([day(-DAYS_PAST_DUE), day(-12)], locale=locale),
        "outstanding": money(OUTSTANDING),
        "amount_paid": money(AMOUNT_PAID),
        "paid_at": format_datetime(now, "medium", tzinfo=zone, locale=locale),
        "deadline_date": day(14),
        "lawyer_name": LAWYER_NAMES.get(locale, LAWYER_NAMES["en"]),
        "plan_summary": plan_summary,
        "allocation_summary": allocation_summary,
        "receipt_url": url + "/payments/receipts/1",
        "decision": decision,
        "decision_reason": decision_reason,
        "hardship_url": url + "/loans/1/hardship",
        "complaint_reference": f"CP-{today:%Y%m%d}-0001",
        "response_due_date": day(15),
        "contact_name": CONTACT_NAMES.get(locale, CONTACT_NAMES["en"]),
        "agency_name": AGENCY_NAMES.get(locale, AGENCY_NAMES["en"]),
        "placed_on": day(0),
        "recalled_on": day(0),
    }
    return {name: values.get(name, f"[{name}]") for name in sorted(spec.variables)}
