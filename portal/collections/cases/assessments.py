"""The collector's structured assessment of a borrower's ability and willingness to pay."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l

from portal.audit.services import record as audit
from portal.auth.models import User
from portal.collections.cases.access import lock_open_case
from portal.collections.models import ArrearsReason, Assessment, Willingness
from portal.domain import DomainError
from portal.extensions import db

TEXT_MAX = 200  # the columns' size


class InvalidAssessment(DomainError):
    status_code = 422
    message = _l("The assessment is not complete: describe the income and the next step.")


def record_assessment(
    case_id: int,
    *,
    viewer: User,
    income_situation: str,
    monthly_income_minor: int | None,
    arrears_reason: ArrearsReason,
    willingness: Willingness,
    can_pay_minor_per_month: int | None,
    next_step: str,
    now: datetime,
    ip_address: str | None = None,
) -> Assessment:
    """Add an assessment to an open case (earlier ones stay, for the timeline). Texts have
    1..TEXT_MAX characters and amounts, in the case's currency, are not negative
    (InvalidAssessment). Locks the case; audits ``case.assessment_recorded``. Flushes."""
    texts = (income_situation.strip(), next_step.strip())
    amounts = (monthly_income_minor, can_pay_minor_per_month)
    if not all(texts) or any(len(text) > TEXT_MAX for text in texts):
        raise InvalidAssessment()
    if any(amount is not None and amount < 0 for amount in amounts):
        raise InvalidAssessment(_l("Amounts cannot be negative."))
    case = lock_open_case(case_id, viewer)
    assessment = Assessment(
        case_id=case.id,
        income_situation=texts[0],
        monthly_income_minor=monthly_income_minor,
        arrears_reason=arrears_reason,
        willingness=willingness,
        can_pay_minor_per_month=can_pay_minor_per_month,
        next_step=texts[1],
        author_id=viewer.id,
        created_at=now,
    )
    db.session.add(assessment)
    db.session.flush()
    audit(
        "case.assessment_recorded",
        now=now,
        actor_id=viewer.id,
        object_type="collection_case",
        object_id=case.id,
        details={
            "assessment_id": assessment.id,
            "arrears_reason": arrears_reason.value,
            "willingness": willingness.value,
        },
        ip_address=ip_address,
    )
    return assessment
