"""The plan policy form (the next version) and the borrower's income and expenses form.

The forms check shape (whole numbers, choices); ``policy.validate_settings`` checks meaning and
lists what is wrong in ``InvalidPlanPolicy``.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import InputRequired, Length, Optional

from portal.converters import id_or_none
from portal.forms import strip
from portal.loans.charges.forms import NumberField
from portal.plans.labels import DOWN_PAYMENT_LABELS, FREQUENCY_LABELS
from portal.plans.policy import MAX_TERMS, PlanPolicy


def _number(label):
    return NumberField(label, validators=[InputRequired(message=_l("Please enter a number."))])


class TermForm(Form):
    """One row of the menu; a row without a number of installments is left off."""

    installments = NumberField(_l("Installments"), validators=[Optional()])
    frequency = SelectField(
        _l("Every"), choices=[SelectChoice(c, t) for c, t in FREQUENCY_LABELS.items()]
    )
    late_charge_waiver_bps = NumberField(
        _l("Late charges waived (basis points)"), validators=[Optional()]
    )
    interest_waiver_bps = NumberField(_l("Interest waived (basis points)"), validators=[Optional()])


class PlanPolicyForm(FlaskForm):
    base_version = HiddenField()
    min_days_past_due = _number(_l("Fewest days past due"))
    max_days_past_due = _number(_l("Most days past due"))
    min_balance_minor = _number(_l("Smallest balance (minor units: fen, cents)"))
    max_balance_minor = _number(_l("Largest balance (minor units; 0: no limit)"))
    max_plans_per_year = _number(_l("Plans per loan in any 365 days, at most"))
    down_payment_kind = SelectField(
        _l("Down payment"), choices=[SelectChoice(c, t) for c, t in DOWN_PAYMENT_LABELS.items()]
    )
    down_payment_bps = _number(_l("Down payment share (basis points of the balance)"))
    down_payment_fixed_minor = _number(_l("Fixed down payment (minor units)"))
    down_payment_min_minor = _number(_l("Smallest down payment (minor units)"))
    min_installment_minor = _number(_l("Smallest installment (minor units)"))
    affordability_bps = _number(
        _l("Affordable share of disposable income (basis points; 3000 is 30 %)")
    )
    approval_balance_minor = _number(_l("Admin approves a balance above (minor units; 0: never)"))
    approval_waiver_minor = _number(_l("Admin approves a waiver above (minor units; 0: never)"))
    break_grace_days = _number(_l("Days a plan payment may be late before the plan ends"))
    terms = FieldList(FormField(TermForm), min_entries=MAX_TERMS, max_entries=MAX_TERMS)

    @classmethod
    def of(cls, policy: PlanPolicy) -> PlanPolicyForm:
        """A form showing ``policy``."""
        return cls(formdata=None, data={"base_version": str(policy.version), **policy.settings()})

    def expected_version(self) -> int | None:
        return id_or_none(self.base_version.data or "")

    def settings(self) -> dict:
        """The submitted policy, shaped for ``save_plan_policy``."""
        values = {
            name: field.data
            for name, field in self._fields.items()
            if name not in {"base_version", "terms", "csrf_token"}
        }
        values["terms"] = [
            {
                "installments": row.installments.data,
                "frequency": row.frequency.data,
                "late_charge_waiver_bps": row.late_charge_waiver_bps.data or 0,
                "interest_waiver_bps": row.interest_waiver_bps.data or 0,
            }
            for row in (entry.form for entry in self.terms)
            if row.installments.data is not None
        ]
        return values


class MeansForm(FlaskForm):
    """What the borrower earns and must spend a month (not stored: it only sorts the offers;
    posted, so the amounts stay out of addresses and logs)."""

    income = StringField(_l("Monthly income"), filters=[strip], validators=[Optional()])
    expenses = StringField(
        _l("Essential monthly expenses (rent, food, transport, other debts)"),
        filters=[strip],
        validators=[Optional()],
    )


def minor_or_none(text) -> int | None:
    """An amount in minor units the page put in a hidden field (ASCII digits), else None."""
    if not isinstance(text, str) or not (text.isascii() and text.isdigit()) or len(text) > 18:
        return None
    return int(text)


class EnrollForm(FlaskForm):
    """The borrower's consent to one offer: which term, at the balance the page showed, and
    the income and expenses they typed (hidden, so an error keeps the offers as sorted)."""

    term = HiddenField(validators=[InputRequired(), Length(max=20)])
    quoted_balance = HiddenField(validators=[InputRequired(), Length(max=20)])
    income = HiddenField(filters=[strip], validators=[Length(max=40)])
    expenses = HiddenField(filters=[strip], validators=[Length(max=40)])
    consent = BooleanField(_l("I have read and agree to the plan terms above."))

    def quoted_balance_minor(self) -> int | None:
        return minor_or_none(self.quoted_balance.data)


class ProposeForm(FlaskForm):
    """A collector's proposal of one offer, at the balance the case page showed."""

    term = HiddenField(validators=[InputRequired(), Length(max=20)])
    quoted_balance = HiddenField(validators=[InputRequired(), Length(max=20)])

    def quoted_balance_minor(self) -> int | None:
        return minor_or_none(self.quoted_balance.data)
