"""Helpers of the legal tests: a case opened by the daily run (``open_case``), the request and
the admin's decision (``request_approval``, ``approve``, ``approved_case``), and what they left."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask.testing import FlaskClient
from sqlalchemy import select, update

from portal.audit.models import AuditEvent
from portal.auth.models import BorrowerProfile, Channel, Role
from portal.collections.legal.agency_notices import PLACED, RECALLED
from portal.collections.models import CollectionCase, LegalRequest
from portal.collections.run import run_collections
from portal.extensions import db
from portal.messaging.dispatch import dispatch_due
from tests.conftest import Account, csrf_token, login
from tests.messaging.conftest import NOON_SHANGHAI, install_defaults

NOW = NOON_SHANGHAI  # 10:00 in Shanghai on Saturday 2026-11-28
TODAY = date(2026, 11, 28)
AGENCY_NOTICES = (PLACED, RECALLED)
STAGE_3_LOAN = date(2026, 6, 15)  # first installment due 2026-07-15: 136 days past due
STAGE_2_LOAN = date(2026, 10, 15)  # first installment due 2026-11-15: 13 days past due
REQUESTS = "/staff/collections/legal/requests"


@dataclass(frozen=True)
class OpenCase:
    case_id: int
    loan_id: int
    borrower: Account
    collector: Account

    def url(self, tail: str = "request") -> str:
        return f"/staff/collections/cases/{self.case_id}/legal/{tail}"


def _install_templates(locale: str) -> None:
    """The default texts of the purposes these tests send."""
    install_defaults(
        ("overdue_stage_1", "overdue_stage_2", "lawyer_letter", *AGENCY_NOTICES), locale, NOW
    )


def open_case(
    app,
    make_user,
    make_loan,
    *,
    contacted: bool = True,
    disbursed: date = STAGE_3_LOAN,
    locale: str = "en",
    name: str = "Wang Fang",
    phone: str | None = "+8613812345678",
) -> OpenCase:
    """A borrower with an overdue loan, opened as a case by the daily run on TODAY and assigned
    to a new collector; ``contacted``: the run's notices went out and the portal copy was sent."""
    collector = make_user(Role.COLLECTOR, locale="en", name="Cara Collector")
    borrower = make_user(locale=locale, name=name)
    loan_id = make_loan(borrower.id, disbursed_on=disbursed)
    with app.app_context():
        _install_templates(locale)
        db.session.execute(
            update(BorrowerProfile)
            .where(BorrowerProfile.user_id == borrower.id)
            .values(phone=phone)
        )
        db.session.commit()
        run_collections(TODAY, now=NOW, contacts=contacted)
        if contacted:
            dispatch_due(lambda: NOW, channels={Channel.PORTAL})
        case_id = db.session.scalar(
            select(CollectionCase.id).where(CollectionCase.loan_id == loan_id)
        )
        assert db.session.get(CollectionCase, case_id).assigned_to == collector.id
    return OpenCase(case_id, loan_id, borrower, collector)


def post(client, url: str, data: dict, *, form_page: str):
    return client.post(url, data={"csrf_token": csrf_token(client, form_page), **data})


def request_approval(client, case: OpenCase, reason: str = "No payment after 4 months."):
    return post(client, case.url(), {"reason": reason}, form_page=case.url())


def download(client, case: OpenCase):
    """Press the legal page's download button (a POST with the page's CSRF token)."""
    return post(client, case.url("bundle.zip"), {}, form_page=case.url())


def approve(client, request_id: int, decision: str = "approve", note: str = ""):
    return post(
        client,
        REQUESTS,
        {"request_id": str(request_id), "decision": decision, "note": note},
        form_page=REQUESTS,
    )


def only_request(case_id: int) -> LegalRequest:
    db.session.expire_all()
    return db.session.scalars(select(LegalRequest).where(LegalRequest.case_id == case_id)).one()


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def signed_in(app, account: Account) -> FlaskClient:
    """A new browser session signed in as ``account``."""
    client = app.test_client()
    login(client, account)
    return client


def new_admin(app, make_user) -> tuple[FlaskClient, Account]:
    admin = make_user(Role.ADMIN, locale="en", name="Ada Admin")
    return signed_in(app, admin), admin


def approved_case(app, make_user, make_loan, **options) -> tuple[OpenCase, FlaskClient, Account]:
    """A case requested by its collector and approved by an admin; returns the admin's client."""
    case = open_case(app, make_user, make_loan, **options)
    assert request_approval(signed_in(app, case.collector), case).status_code == 303
    admin_client, admin = new_admin(app, make_user)
    with app.app_context():
        request_id = only_request(case.case_id).id
    assert approve(admin_client, request_id).status_code == 303
    return case, admin_client, admin
