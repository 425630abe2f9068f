"""The late-charge policy per loan product, in versions, and the staff waiver of late charges.

Admins change a product's policy at run time; each save stores the next version (none is ever
edited) and is audited as ``charge_policy.saved``. A product with no saved version uses
``DEFAULT_POLICY`` as version 0 (seeded lazily, not by the migration): no late fee, no penalty
interest, the 24 % cost cap and the default waterfall. The accrual reads the newest version.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.audit.services import record as audit
from portal.auth.models import User
from portal.domain import DomainError
from portal.extensions import db
from portal.loans.allocation import DEFAULT_WATERFALL
from portal.loans.charges.models import ChargePolicy, LateFeeKind
from portal.loans.models import Component, LoanProduct

MAX_GRACE_DAYS = 60
MAX_BPS = 10_000  # 100 %: a late fee percentage, a daily penalty rate
MAX_CAP_BPS = 100_000  # 1,000 % a year: a cap above any lawful one, still a bound
MAX_FLAT_MINOR = 100_000_000


@dataclass(frozen=True)
class Policy:
    """One version of a product's charge policy (version 0: the default, never saved)."""

    product: LoanProduct
    version: int
    grace_days: int
    late_fee_kind: LateFeeKind
    late_fee_flat_minor: int
    late_fee_bps: int
    penalty_bps_per_day: int
    cap_annual_bps: int
    waterfall: tuple[Component, ...]

    @property
    def charges_anything(self) -> bool:
        return self.late_fee_kind is not LateFeeKind.NONE or self.penalty_bps_per_day > 0

    def settings(self) -> dict:
        """The editable values, as the form and the audit event carry them."""
        values = asdict(self)
        del values["product"], values["version"]
        values["late_fee_kind"] = self.late_fee_kind.value
        values["waterfall"] = [component.value for component in self.waterfall]
        return values


DEFAULT_POLICY = {
    "grace_days": 0,
    "late_fee_kind": LateFeeKind.NONE.value,
    "late_fee_flat_minor": 0,
    "late_fee_bps": 0,
    "penalty_bps_per_day": 0,
    "cap_annual_bps": 2400,  # 24 % a year
    "waterfall": [component.value for component in DEFAULT_WATERFALL],
}


def _policy(product: LoanProduct, version: int, settings: dict) -> Policy:
    return Policy(
        product=product,
        version=version,
        grace_days=int(settings["grace_days"]),
        late_fee_kind=LateFeeKind(settings["late_fee_kind"]),
        late_fee_flat_minor=int(settings["late_fee_flat_minor"]),
        late_fee_bps=int(settings["late_fee_bps"]),
        penalty_bps_per_day=int(settings["penalty_bps_per_day"]),
        cap_annual_bps=int(settings["cap_annual_bps"]),
        waterfall=tuple(Component(code) for code in settings["waterfall"]),
    )


def _from_row(row: ChargePolicy) -> Policy:
    return _policy(
        row.product,
        row.version,
        {
            "grace_days": row.grace_days,
            "late_fee_kind": row.late_fee_kind,
            "late_fee_flat_minor": row.late_fee_flat_minor,
            "late_fee_bps": row.late_fee_bps,
            "penalty_bps_per_day": row.penalty_bps_per_day,
            "cap_annual_bps": row.cap_annual_bps,
            "waterfall": row.waterfall,
        },
    )


def current_policy(product: LoanProduct) -> Policy:
    """The newest saved version of ``product``'s policy, or the default as version 0."""
    row = db.session.scalars(
        select(ChargePolicy)
        .where(ChargePolicy.product == product)
        .order_by(ChargePolicy.version.desc())
        .limit(1)
    ).first()
    return _from_row(row) if row else _policy(product, 0, DEFAULT_POLICY)


def current_policies() -> dict[LoanProduct, Policy]:
    """Every product's policy in force (one query for the saved ones)."""
    newest = (
        select(ChargePolicy.product, func.max(ChargePolicy.version).label("version"))
        .group_by(ChargePolicy.product)
        .subquery()
    )
    rows = db.session.scalars(
        select(ChargePolicy).join(
            newest,
            (newest.c.product == ChargePolicy.product) & (newest.c.version == ChargePolicy.version),
        )
    ).all()
    saved = {row.product: _from_row(row) for row in rows}
    return {p: saved.get(p) or _policy(p, 0, DEFAULT_POLICY) for p in LoanProduct}


def waterfall_of(product: LoanProduct) -> tuple[Component, ...]:
    """The order in which a payment to a loan of ``product`` pays its components."""
    return current_policy(product).waterfall


class InvalidPolicy(DomainError):
    status_code = 422
    message = _l("The charge policy is not valid.")

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


class PolicyChanged(DomainError):
    status_code = 409
    message = _l(
        "Someone saved a new version while you were editing. Your changes are kept below: "
        "compare them with the version now in force and save again."
    )


def _whole(value, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def validate_policy(settings: dict) -> list[str]:
    """Every problem with a policy's settings, in words an admin can act on."""
    errors: list[str] = []
    if not _whole(settings.get("grace_days"), 0, MAX_GRACE_DAYS):
        errors.append(_("The grace period must be 0 to %(n)s days.", n=MAX_GRACE_DAYS))
    kind = settings.get("late_fee_kind")
    if kind not in {k.value for k in LateFeeKind}:
        errors.append(_("Choose how the late fee is computed."))
    flat, bps = settings.get("late_fee_flat_minor"), settings.get("late_fee_bps")
    if not _whole(flat, 0, MAX_FLAT_MINOR) or not _whole(bps, 0, MAX_BPS):
        errors.append(
            _(
                "The late fee must be a non-negative amount, or a rate of at most 10,000 "
                "basis points."
            )
        )
    elif kind == LateFeeKind.FLAT.value and flat == 0:
        errors.append(_("A fixed late fee needs an amount above zero."))
    elif kind == LateFeeKind.PERCENT.value and bps == 0:
        errors.append(_("A percentage late fee needs a rate above zero."))
    if not _whole(settings.get("penalty_bps_per_day"), 0, MAX_BPS):
        errors.append(_("The daily penalty rate must be 0 to 10,000 basis points."))
    if not _whole(settings.get("cap_annual_bps"), 0, MAX_CAP_BPS):
        errors.append(_("The cost cap must be 0 to 100,000 basis points a year."))
    waterfall = settings.get("waterfall") or []
    if sorted(waterfall) != sorted(c.value for c in Component):
        errors.append(_("The payment order must name each part of an installment exactly once."))
    return errors


def save_policy_version(
    product: LoanProduct,
    settings: dict,
    *,
    expected_version: int | None,
    actor_id: int,
    now: datetime,
    ip_address: str | None,
) -> Policy:
    """Store ``settings`` as ``product``'s next policy version; audit ``charge_policy.saved``.

    Raises InvalidPolicy (``.errors``) before writing anything, and PolicyChanged when the
    version in force is no longer ``expected_version`` or another admin took the same version
    number at the same moment (roll the session back). Flushes; the caller commits.
    """
    errors = validate_policy(settings)
    if errors:
        raise InvalidPolicy(errors)
    previous = current_policy(product).version
    if expected_version is not None and previous != expected_version:
        raise PolicyChanged()
    row = ChargePolicy(product=product, version=previous + 1, created_by=actor_id, created_at=now)
    for name in DEFAULT_POLICY:
        setattr(row, name, settings[name])
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError as error:
        raise PolicyChanged() from error
    saved = _from_row(row)
    audit(
        "charge_policy.saved",
        now=now,
        actor_id=actor_id,
        object_type="charge_policy",
        object_id=f"{product.value}:{saved.version}",
        details={
            "product": product.value,
            "version": saved.version,
            "previous_version": previous,
            "settings": saved.settings(),
        },
        ip_address=ip_address,
    )
    return saved


def policy_history(product: LoanProduct) -> list[tuple[Policy, datetime, str | None]]:
    """``product``'s saved versions, newest first, with when and by whom. One query."""
    rows = db.session.execute(
        select(ChargePolicy, User.name)
        .outerjoin(User, User.id == ChargePolicy.created_by)
        .where(ChargePolicy.product == product)
        .order_by(ChargePolicy.version.desc())
    ).all()
    return [(_from_row(row), row.created_at, author) for row, author in rows]
