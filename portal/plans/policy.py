"""The plan policy's values, pure: what one version says, its defaults and its validation.

Amounts are minor units of the loan's currency (the portal lends in one currency per
deployment). Rates are basis points: 100 are one percent.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass

from flask_babel import gettext as _

from portal.plans.schedule import Frequency

MAX_BPS = 10_000
MAX_DAYS = 3650
MAX_MINOR = 10_000_000_000
MAX_TERMS = 6  # rows on the menu
MAX_INSTALLMENTS = 60


class DownPaymentKind(enum.StrEnum):
    NONE = "none"
    PERCENT = "percent"  # basis points of the restructured balance, at least the minimum
    FIXED = "fixed"  # a fixed amount


@dataclass(frozen=True)
class Term:
    """One choice on the menu: how many installments, how often, and what it waives."""

    installments: int
    frequency: Frequency
    late_charge_waiver_bps: int = 0
    interest_waiver_bps: int = 0


@dataclass(frozen=True)
class PlanPolicy:
    version: int
    # Eligibility: days past due and the outstanding balance within these ranges (a maximum
    # of 0 means no upper bound), at most ``max_plans_per_year`` plans per loan in any 365 days.
    min_days_past_due: int
    max_days_past_due: int
    min_balance_minor: int
    max_balance_minor: int
    max_plans_per_year: int
    terms: tuple[Term, ...]
    down_payment_kind: DownPaymentKind
    down_payment_bps: int
    down_payment_fixed_minor: int
    down_payment_min_minor: int
    min_installment_minor: int  # a term whose installment would be smaller is not offered
    affordability_bps: int  # an installment at most this share of disposable income
    # An admin approves a plan whose balance or waiver is above these (0: never needed).
    approval_balance_minor: int
    approval_waiver_minor: int
    # A plan installment unpaid more than this many days after its date breaks the plan.
    break_grace_days: int = 5

    def settings(self) -> dict:
        """The editable values as stored (JSON) and audited."""
        values = asdict(self)
        del values["version"]
        values["down_payment_kind"] = self.down_payment_kind.value
        values["terms"] = [
            {**asdict(term), "frequency": term.frequency.value} for term in self.terms
        ]
        return values


DEFAULT_SETTINGS: dict = {
    "min_days_past_due": 1,
    "max_days_past_due": 180,
    "min_balance_minor": 10_000,
    "max_balance_minor": 0,
    "max_plans_per_year": 2,
    "terms": [
        {
            "installments": 3,
            "frequency": "monthly",
            "late_charge_waiver_bps": 5000,
            "interest_waiver_bps": 0,
        },
        {
            "installments": 6,
            "frequency": "monthly",
            "late_charge_waiver_bps": 2500,
            "interest_waiver_bps": 0,
        },
        {
            "installments": 12,
            "frequency": "monthly",
            "late_charge_waiver_bps": 0,
            "interest_waiver_bps": 0,
        },
        {
            "installments": 6,
            "frequency": "biweekly",
            "late_charge_waiver_bps": 5000,
            "interest_waiver_bps": 0,
        },
    ],
    "down_payment_kind": DownPaymentKind.PERCENT.value,
    "down_payment_bps": 1000,
    "down_payment_fixed_minor": 0,
    "down_payment_min_minor": 0,
    "min_installment_minor": 1000,
    "affordability_bps": 3000,
    "approval_balance_minor": 0,
    "approval_waiver_minor": 0,
    "break_grace_days": 5,
}

_WHOLE_FIELDS = {
    "min_days_past_due": MAX_DAYS,
    "max_days_past_due": MAX_DAYS,
    "min_balance_minor": MAX_MINOR,
    "max_balance_minor": MAX_MINOR,
    "max_plans_per_year": 12,
    "down_payment_bps": MAX_BPS,
    "down_payment_fixed_minor": MAX_MINOR,
    "down_payment_min_minor": MAX_MINOR,
    "min_installment_minor": MAX_MINOR,
    "affordability_bps": MAX_BPS,
    "approval_balance_minor": MAX_MINOR,
    "approval_waiver_minor": MAX_MINOR,
    "break_grace_days": 60,
}


def policy_of(version: int, settings: dict) -> PlanPolicy:
    """A policy from its stored (or validated) settings."""
    return PlanPolicy(
        version=version,
        terms=tuple(
            Term(
                installments=int(t["installments"]),
                frequency=Frequency(t["frequency"]),
                late_charge_waiver_bps=int(t["late_charge_waiver_bps"]),
                interest_waiver_bps=int(t["interest_waiver_bps"]),
            )
            for t in settings["terms"]
        ),
        down_payment_kind=DownPaymentKind(settings["down_payment_kind"]),
        # A version saved before a field existed takes the field's default.
        **{name: int(settings.get(name, DEFAULT_SETTINGS[name])) for name in _WHOLE_FIELDS},
    )


def _whole(value, high: int, low: int = 0) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _term_errors(terms) -> list[str]:
    if not isinstance(terms, list) or not 1 <= len(terms) <= MAX_TERMS:
        return [_("Offer between 1 and %(n)s terms.", n=MAX_TERMS)]
    errors: list[str] = []
    seen = set()
    for n, term in enumerate(terms, start=1):
        count, frequency = term.get("installments"), term.get("frequency")
        if not _whole(count, MAX_INSTALLMENTS, 2):
            errors.append(_("Term %(n)s: 2 to %(max)s installments.", n=n, max=MAX_INSTALLMENTS))
        if frequency not in {f.value for f in Frequency}:
            errors.append(_("Term %(n)s: choose monthly or every two weeks.", n=n))
        if not all(
            _whole(term.get(k), MAX_BPS) for k in ("late_charge_waiver_bps", "interest_waiver_bps")
        ):
            errors.append(_("Term %(n)s: waivers are 0 to 10,000 basis points.", n=n))
        if (count, frequency) in seen:
            errors.append(_("Term %(n)s is on the menu twice.", n=n))
        seen.add((count, frequency))
    return errors


def validate_settings(settings: dict) -> list[str]:
    """Every problem with a policy's settings, in words an admin can act on."""
    if not all(_whole(settings.get(name), high) for name, high in _WHOLE_FIELDS.items()):
        return [_("Every number must be a whole number from 0 up to its limit.")]
    errors: list[str] = []
    if settings["max_days_past_due"] < settings["min_days_past_due"]:
        errors.append(_("The most days past due cannot be below the fewest."))
    if 0 < settings["max_balance_minor"] < settings["min_balance_minor"]:
        errors.append(_("The largest balance cannot be below the smallest."))
    if settings["max_plans_per_year"] < 1:
        errors.append(_("Allow at least one plan a year, or no loan could ever enroll."))
    kind = settings.get("down_payment_kind")
    if kind not in {k.value for k in DownPaymentKind}:
        errors.append(_("Choose how the down payment is set."))
    elif kind == DownPaymentKind.PERCENT.value and settings["down_payment_bps"] == 0:
        errors.append(_("A percentage down payment needs a rate above zero."))
    elif kind == DownPaymentKind.FIXED.value and settings["down_payment_fixed_minor"] == 0:
        errors.append(_("A fixed down payment needs an amount above zero."))
    if settings["min_installment_minor"] < 1:
        errors.append(_("The smallest installment must be above zero."))
    if settings["affordability_bps"] < 1:
        errors.append(_("The affordable share of disposable income must be above zero."))
    return errors + _term_errors(settings.get("terms"))
