"""Enrolling a loan in a plan: the borrower's consent to one offer, or a collector's proposal.

Each runs in one transaction under the loan's row lock (the lock a payment takes), re-pricing the
offer from the ledger as it is then: an offer whose balance changed since the borrower saw it is
refused as stale, never enrolled at a price nobody agreed to. A loan has at most one live plan
(``uq_repayment_plan_live_loan``): a new consent replaces a proposal or a plan still waiting for
its down payment or approval, and two concurrent consents make one plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.audit.services import record as audit
from portal.domain import DomainError, NotFound
from portal.extensions import db
from portal.loans.models import Component, Loan
from portal.loans.services import LoanNotFound, loan_position
from portal.plans.activation import activate
from portal.plans.labels import INELIGIBLE_LABELS
from portal.plans.models import LIVE_PLAN_STATUSES, PlanStatus, RepaymentPlan
from portal.plans.offers import Offer
from portal.plans.policy import Term
from portal.plans.services import LoanOffers, offers_for
from portal.plans.terms import PLAN_TERMS_VERSION

# A plan counts toward the policy's "plans per loan a year" once it started.
COUNTED = (PlanStatus.ACTIVE, PlanStatus.COMPLETED, PlanStatus.BROKEN)
YEAR = timedelta(days=365)


class PlanRefused(DomainError):
    status_code = 422


class PlanIneligible(PlanRefused):
    def __init__(self, reason):
        super().__init__(INELIGIBLE_LABELS[reason.value])
        self.reason = reason


class OfferUnavailable(PlanRefused):
    message = _l("That plan is not offered for this loan. Choose one of the plans shown.")


class OfferStale(PlanRefused):
    status_code = 409
    message = _l(
        "Your balance changed since these plans were shown, so we priced them again. "
        "Check the new amounts and confirm again."
    )


class ConsentMissing(PlanRefused):
    message = _l("To enroll, tick the box to agree to the plan terms.")


class PlanNotFound(NotFound):
    message = _l("We could not find that plan.")


def term_key(term: Term) -> str:
    """How a form names a term on the menu (a term is unique by count and frequency)."""
    return f"{term.installments}-{term.frequency.value}"


@dataclass(frozen=True)
class PlanHistory:
    live: RepaymentPlan | None  # proposed, awaiting approval or down payment, or active
    started_last_year: int  # plans that started in the last 365 days (the policy's limit)

    @property
    def active(self) -> bool:
        return self.live is not None and self.live.status is PlanStatus.ACTIVE


def plan_history(loan_id: int, now: datetime) -> PlanHistory:
    """The loan's live plan and how many plans it started in the last year. Two queries."""
    live = db.session.scalar(
        select(RepaymentPlan).where(
            RepaymentPlan.loan_id == loan_id, RepaymentPlan.status.in_(LIVE_PLAN_STATUSES)
        )
    )
    started = db.session.scalar(
        select(func.count()).where(
            RepaymentPlan.loan_id == loan_id,
            RepaymentPlan.status.in_([s.value for s in COUNTED]),
            RepaymentPlan.activated_at >= now - YEAR,
        )
    )
    return PlanHistory(live, started or 0)


def loan_offers(
    loan: Loan, *, today: date, now: datetime, capacity_minor: int | None = None
) -> tuple[LoanOffers, PlanHistory]:
    """The loan's offers today, with its plans counted against the policy."""
    history = plan_history(loan.id, now)
    offers = offers_for(
        loan_position(loan, today),
        capacity_minor=capacity_minor,
        start=today,
        active_plan=history.active,
        plans_last_year=history.started_last_year,
    )
    return offers, history


def _locked_loan(loan_id: int, borrower_id: int | None) -> Loan:
    """The loan row-locked (a payment or waiver on it waits), its installments read after."""
    query = select(Loan).where(Loan.id == loan_id)
    if borrower_id is not None:
        query = query.where(Loan.borrower_id == borrower_id)
    loan = db.session.scalar(query.with_for_update().execution_options(populate_existing=True))
    if loan is None:
        raise LoanNotFound()
    db.session.refresh(loan, attribute_names=["installments"])
    return loan


def _priced_offer(loan: Loan, key: str, quoted_balance_minor: int | None, today, now):
    """The offer ``key`` as priced now; OfferStale when the quote (None: no quote, staff
    pricing it now) is not today's balance."""
    offers, history = loan_offers(loan, today=today, now=now)
    if offers.reason is not None:
        raise PlanIneligible(offers.reason)
    offer = next((o for o in offers.offers if term_key(o.term) == key), None)
    if offer is None:
        raise OfferUnavailable()
    if quoted_balance_minor is not None and offer.balance_minor != quoted_balance_minor:
        raise OfferStale()
    return offer, offers.policy.version, history.live


def _new_plan(loan: Loan, offer: Offer, policy_version: int, today: date, now: datetime):
    return RepaymentPlan(
        loan_id=loan.id,
        borrower_id=loan.borrower_id,
        policy_version=policy_version,
        installment_count=offer.term.installments,
        frequency=offer.term.frequency,
        currency=loan.currency,
        balance_minor=offer.balance_minor,
        waived_late_charge_minor=offer.waiver_by_component.get(Component.LATE_CHARGE, 0),
        waived_interest_minor=offer.waiver_by_component.get(Component.INTEREST, 0),
        down_payment_minor=offer.down_payment_minor,
        financed_minor=offer.financed_minor,
        start_on=today,
        schedule=[
            {"due_date": i.due_date.isoformat(), "amount_minor": i.amount_minor}
            for i in offer.installments
        ],
        needs_approval=offer.needs_approval,
        created_at=now,
    )


def _same_offer(plan: RepaymentPlan, offer: Offer) -> bool:
    return (
        plan.installment_count == offer.term.installments
        and plan.frequency is offer.term.frequency
        and plan.balance_minor == offer.balance_minor
    )


def _resubmitted(live: RepaymentPlan, key: str, quoted_balance_minor: int) -> bool:
    """The borrower's consent to this very offer is the live plan already. Checked before
    re-pricing: a plan active at once (no down payment) has waived part of the balance, and
    the loan is no longer eligible, yet the reload must get the plan, not a refusal."""
    term = Term(installments=live.installment_count, frequency=live.frequency)
    return (
        live.consented_at is not None
        and term_key(term) == key
        and live.balance_minor == quoted_balance_minor
    )


def _insert(plan: RepaymentPlan) -> RepaymentPlan:
    """Insert the plan; if a concurrent consent made the loan's live plan first, that one."""
    try:
        # Added inside the savepoint: a refused insert leaves the session with nothing pending
        # (added before it, the plan stayed pending and every later flush failed again).
        with db.session.begin_nested():
            db.session.add(plan)
            db.session.flush()
    except IntegrityError:
        theirs = db.session.scalar(
            select(RepaymentPlan).where(
                RepaymentPlan.loan_id == plan.loan_id,
                RepaymentPlan.status.in_(LIVE_PLAN_STATUSES),
            )
        )
        if theirs is None:  # pragma: no cover - theirs ended between the insert and the read
            raise
        return theirs
    return plan


def enroll(
    *,
    borrower_id: int,
    loan_id: int,
    term: str,
    quoted_balance_minor: int,
    consent: bool,
    today: date,
    now: datetime,
    ip_address: str | None,
    user_agent: str | None,
) -> RepaymentPlan:
    """The borrower's consent to the offer ``term`` (``term_key``) priced at
    ``quoted_balance_minor``: the plan, active at once when there is no down payment,
    otherwise waiting for it (or for an admin's approval first). Submitting the same consent
    twice returns the same plan.

    Raises LoanNotFound, ConsentMissing, PlanIneligible, OfferUnavailable, OfferStale (nothing
    written). Flushes; the caller commits.
    """
    if not consent:
        raise ConsentMissing()
    loan = _locked_loan(loan_id, borrower_id)
    live = plan_history(loan.id, now).live
    if live is not None and _resubmitted(live, term, quoted_balance_minor):
        return live  # a double submit, a reload: the consent already given (maybe active)
    offer, version, live = _priced_offer(loan, term, quoted_balance_minor, today, now)
    if live is not None:
        _end(live, PlanStatus.CANCELED, "replaced", today)
    plan = _new_plan(loan, offer, version, today, now)
    plan.proposed_by = live.proposed_by if live is not None and _same_offer(live, offer) else None
    plan.terms_version = PLAN_TERMS_VERSION
    plan.consented_by, plan.consented_at = borrower_id, now
    plan.consent_ip = (ip_address or "")[:45] or None
    plan.consent_user_agent = (user_agent or "")[:300] or None
    if offer.needs_approval:
        plan.status = PlanStatus.AWAITING_APPROVAL
    else:
        plan.status = PlanStatus.PENDING
    stored = _insert(plan)
    if stored is not plan:
        return stored
    audit(
        "plan.consented",
        now=now,
        actor_id=borrower_id,
        object_type="repayment_plan",
        object_id=plan.id,
        details={
            "loan": loan.id,
            "term": term,
            "balance_minor": plan.balance_minor,
            "down_payment_minor": plan.down_payment_minor,
            "waiver_minor": plan.waiver_minor,
            "terms_version": plan.terms_version,
        },
        ip_address=ip_address,
    )
    if plan.status is PlanStatus.PENDING and plan.down_payment_minor == 0:
        activate(plan, now=now)
    return plan


def propose(
    *,
    loan_id: int,
    term: str,
    quoted_balance_minor: int | None,
    actor_id: int,
    today: date,
    now: datetime,
    ip_address: str | None = None,
) -> RepaymentPlan:
    """A collector's proposal of the offer ``term``: shown to the borrower, who alone can
    consent. Replaces an earlier proposal; refused while a consented plan is live. Raises as
    ``enroll`` does (the case's authorization is the caller's). Flushes."""
    loan = _locked_loan(loan_id, None)
    offer, version, live = _priced_offer(loan, term, quoted_balance_minor, today, now)
    if live is not None:
        if live.status is not PlanStatus.PROPOSED:
            raise PlanRefused(_l("The borrower has already agreed to a plan for this loan."))
        _end(live, PlanStatus.CANCELED, "replaced", today)
    plan = _new_plan(loan, offer, version, today, now)
    plan.status = PlanStatus.PROPOSED
    plan.proposed_by = actor_id
    stored = _insert(plan)
    if stored is plan:
        audit(
            "plan.proposed",
            now=now,
            actor_id=actor_id,
            object_type="repayment_plan",
            object_id=plan.id,
            details={"loan": loan.id, "term": term, "balance_minor": plan.balance_minor},
            ip_address=ip_address,
        )
    return stored


def _end(plan: RepaymentPlan, status: PlanStatus, reason: str, today: date) -> None:
    plan.status = status
    plan.end_reason = reason
    plan.ended_on = today
    db.session.flush()  # the live slot is free before another plan takes it
