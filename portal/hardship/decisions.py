"""An admin's decision on a hardship request: pause, waiver, referral to a plan, or no change.

One call, one transaction (the caller commits): the review hold closes, the decision is applied
and audited, and the borrower is told through the outbox (purpose ``hardship_decision``, portal
notice and email; without an installed template it logs and the decision still stands).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.audit.services import record as audit
from portal.auth.models import Channel, Role, User
from portal.collections.cases.access import authorized_case
from portal.extensions import db
from portal.hardship.labels import DECISION_LABELS
from portal.hardship.models import HardshipDecision, HardshipRequest, HardshipStatus
from portal.hardship.services import HardshipRefused, pending_request_locked
from portal.loans.adjustments import waive_all_due
from portal.loans.models import Component, Loan
from portal.messaging.contact_controls import close_hold, open_hold
from portal.messaging.models import ContactHold, HoldReason
from portal.messaging.outbox import enqueue
from portal.messaging.templates import RenderFailed, TemplateMissing
from portal.plans.enrollment import propose
from portal.timeutil import local_today

log = logging.getLogger(__name__)
REASON_MAX = 500
PAUSE_DAYS_MAX = 90
WAIVABLE = (Component.LATE_CHARGE, Component.INTEREST)


class HardshipAlreadyDecided(HardshipRefused):
    status_code = 409
    message = _l("This hardship request has already been decided.")


class DecisionReasonMissing(HardshipRefused):
    field = "reason"
    message = _l("Give the reasons for the decision.")


class PauseDaysInvalid(HardshipRefused):
    field = "pause_days"
    message = _l("A pause is from 1 to %(max)d days.", max=PAUSE_DAYS_MAX)


class NothingToWaive(HardshipRefused):
    field = "components"
    message = _l("There is nothing overdue to waive in the charges you chose.")


class PlanTermMissing(HardshipRefused):
    field = "plan_term"
    message = _l("Choose the plan to propose.")


class OnlyAdminsDecide(HardshipRefused):
    status_code = 403
    message = _l("Only an administrator can decide a hardship request.")


@dataclass(frozen=True)
class Decision:
    kind: HardshipDecision
    reason: str
    pause_days: int | None = None
    components: tuple[Component, ...] = ()
    plan_term: str | None = None  # a tailored plan: the term proposed (``enrollment.term_key``)


def decide_hardship(
    request_id: int, decision: Decision, *, admin: User, now: datetime, ip_address: str | None
) -> HardshipRequest:
    """Decide a pending request on a case the admin may open. Raises NotFound, OnlyAdminsDecide,
    HardshipAlreadyDecided, DecisionReasonMissing, PauseDaysInvalid, NothingToWaive,
    PlanTermMissing, the waiver's AdjustmentRefused or the proposal's PlanRefused. Flushes;
    the caller commits."""
    if admin.role is not Role.ADMIN:
        raise OnlyAdminsDecide()
    request = pending_request_locked(request_id)
    case = authorized_case(request.case_id, admin)
    if request.status is not HardshipStatus.PENDING:
        raise HardshipAlreadyDecided()
    reason = decision.reason.strip()
    if not reason or len(reason) > REASON_MAX:
        raise DecisionReasonMissing()
    _close_review_hold(request, admin=admin, now=now, ip_address=ip_address)
    if decision.kind is HardshipDecision.PAUSE:
        days = decision.pause_days or 0
        if not 1 <= days <= PAUSE_DAYS_MAX:
            raise PauseDaysInvalid()
        open_hold(
            case.borrower_id,
            HoldReason.HARDSHIP_REVIEW,
            "",
            actor_id=admin.id,
            now=now,
            ip_address=ip_address,
            expires_at=now + timedelta(days=days),
        )
        request.pause_days = days
    elif decision.kind is HardshipDecision.WAIVER:
        request.waived_minor = _waive_overdue(request, decision, reason, admin, now, ip_address)
    elif decision.kind is HardshipDecision.PLAN:
        if not decision.plan_term:
            raise PlanTermMissing()
        # Priced now; the borrower sees it on the plans page and alone can consent.
        propose(
            loan_id=request.loan_id,
            term=decision.plan_term,
            quoted_balance_minor=None,
            actor_id=admin.id,
            today=local_today(admin.timezone, now),
            now=now,
            ip_address=ip_address,
        )
    request.status = HardshipStatus.DECIDED
    request.decision = decision.kind
    request.decision_reason = reason
    request.decided_at = now
    request.decided_by = admin.id
    db.session.flush()
    audit(
        "hardship.decided",
        now=now,
        actor_id=admin.id,
        object_type="collection_case",
        object_id=case.id,
        details={
            "request": request.id,
            "decision": decision.kind.value,
            "pause_days": request.pause_days,
            "waived_minor": request.waived_minor,
        },
        ip_address=ip_address,
    )
    _tell_borrower(request, decision.kind, now=now)
    return request


def _close_review_hold(
    request: HardshipRequest, *, admin: User, now: datetime, ip_address: str | None
) -> None:
    hold = db.session.get(ContactHold, request.hold_id) if request.hold_id else None
    if hold is not None and hold.closed_at is None:
        close_hold(hold.borrower_id, hold.id, actor_id=admin.id, now=now, ip_address=ip_address)


def _waive_overdue(
    request: HardshipRequest,
    decision: Decision,
    reason: str,
    admin: User,
    now: datetime,
    ip_address: str | None,
) -> int:
    """Waive all that is unpaid of the chosen components on the installments overdue for the
    borrower today; the total waived (NothingToWaive when nothing is)."""
    components = [c for c in decision.components if c in WAIVABLE]
    timezone = db.session.execute(
        select(User.timezone).where(User.id == request.borrower_id)
    ).scalar_one()
    today = local_today(timezone, now)
    total = waive_all_due(
        request.loan_id,
        components,
        due_before=today,
        reason=reason,
        now=now,
        actor_id=admin.id,
        ip_address=ip_address,
    )
    if total == 0:
        raise NothingToWaive()
    return total


def _tell_borrower(request: HardshipRequest, kind: HardshipDecision, *, now: datetime) -> None:
    loan = db.session.execute(select(Loan).where(Loan.id == request.loan_id)).scalar_one()
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    decision = kind.value

    def variables(locale: str) -> dict[str, str]:
        with force_locale(locale):
            label = str(DECISION_LABELS[decision])
        return {
            "loan_reference": loan.reference,
            "decision": label,
            "decision_reason": request.decision_reason or "",
            "hardship_url": f"{base}/loans/{loan.id}/hardship",
        }

    for channel in (Channel.PORTAL, Channel.EMAIL):
        try:
            enqueue(
                borrower_id=request.borrower_id,
                purpose_code="hardship_decision",
                channel=channel,
                variables=variables,
                now=now,
                loan_id=loan.id,
                dedupe_key=f"hardship:{request.id}:{channel.value}",
            )
        except (TemplateMissing, RenderFailed) as error:
            log.warning("hardship %s: borrower not told by %s: %s", request.id, channel, error)
