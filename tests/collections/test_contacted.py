"""What "contacted" means (portal/collections/metrics.py), the same on every page that shows it:
the portfolio dashboard's contact rate, the overdue report and its CSV, the work queue and the
case page. Queued, deferred, blocked and failed messages, texts the provider only accepted and
unanswered calls do not count; a visible notice, an accepted email, a delivered text and a call
that reached the borrower do."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest

from portal.auth.models import Channel, Role
from portal.collections.models import CaseStatus, CollectionCase
from portal.extensions import db
from portal.messaging.models import CallOutcome, MessageStatus
from portal.timeutil import portfolio_today, utcnow
from tests.collections.conftest import record_contact, record_run
from tests.conftest import login, page_text

NOT_CONTACTS = {
    "queued notice": (Channel.PORTAL, MessageStatus.QUEUED, None),
    "deferred text": (Channel.SMS, MessageStatus.QUEUED, None),
    "blocked email": (Channel.EMAIL, MessageStatus.BLOCKED, None),
    "failed email": (Channel.EMAIL, MessageStatus.FAILED, None),
    "text only accepted": (Channel.SMS, MessageStatus.SENT, None),
    "unanswered call": (Channel.PHONE, MessageStatus.SENT, CallOutcome.NO_ANSWER),
}
CONTACTS = {
    "visible notice": (Channel.PORTAL, MessageStatus.SENT, None),
    "accepted email": (Channel.EMAIL, MessageStatus.SENT, None),
    "delivered text": (Channel.SMS, MessageStatus.DELIVERED, None),
    "connected call": (Channel.PHONE, MessageStatus.SENT, CallOutcome.CONNECTED),
    "promise on a call": (Channel.PHONE, MessageStatus.SENT, CallOutcome.PROMISE_TO_PAY),
}


@pytest.fixture
def pages(app, client, make_user, make_loan):
    """One open case whose borrower got one message (given by the test); returns a function
    that adds the message and the signed-in admin client with the case id."""

    def build(channel: Channel, status: MessageStatus, outcome: CallOutcome | None):
        admin = make_user(Role.ADMIN, name="Ada Admin", locale="en")
        borrower = make_user(locale="en", name="Bea Borrower")
        loan_id = make_loan(borrower.id)
        now = utcnow()
        with app.app_context():
            today = portfolio_today(now)
            record_run(today)
            case = CollectionCase(
                loan_id=loan_id,
                borrower_id=borrower.id,
                status=CaseStatus.OPEN,
                opened_on=today - timedelta(days=20),
                stage=2,
                stage_entered_on=today - timedelta(days=20),
                bucket="1-30",
                oldest_unpaid_due=today - timedelta(days=20),
                overdue_principal=10_000,
                overdue_interest=0,
                overdue_fee=0,
                currency="CNY",
                strategy_version=0,
                assigned_to=admin.id,
            )
            db.session.add(case)
            message = record_contact(
                borrower.id, now - timedelta(hours=2), channel=channel, status=status
            )
            message.call_outcome = outcome
            if status is MessageStatus.QUEUED and channel is Channel.SMS:
                message.not_before = now + timedelta(hours=8)  # deferred to the morning
            db.session.commit()
            case_id = case.id
        login(client, admin)
        return client, case_id

    return build


def _shown(client, case_id: int) -> dict[str, bool]:
    """Whether each page shows the case as contacted."""
    case_page = page_text(client.get(f"/staff/collections/cases/{case_id}"))
    queue = page_text(client.get("/staff/collections/queue"))
    report = page_text(client.get("/staff/reports/overdue"))
    rows = list(csv.reader(io.StringIO(client.get("/staff/reports/overdue.csv").text)))
    dashboard = client.get("/staff/reports/portfolio").get_data(as_text=True)
    rate = re.search(r'data-testid="kpi-contact">([^<]*)<', dashboard)
    assert rate is not None
    return {
        "case page": "Last contact Never contacted" not in case_page,
        "queue": "Never contacted" not in queue,
        "overdue report": "Never contacted" not in report,
        "overdue CSV": rows[1][-1] != "",
        "dashboard": rate.group(1).strip() == "100.0%",
    }


@pytest.mark.parametrize("kind", NOT_CONTACTS)
def test_a_message_that_did_not_reach_the_borrower_is_no_contact_anywhere(pages, kind):
    """A queued, deferred, blocked, failed or unconfirmed message or an unanswered call: never
    contacted on the case page, queue, report, CSV, and 0% on the dashboard."""
    client, case_id = pages(*NOT_CONTACTS[kind])

    assert _shown(client, case_id) == dict.fromkeys(
        ("case page", "queue", "overdue report", "overdue CSV", "dashboard"), False
    )


@pytest.mark.parametrize("kind", CONTACTS)
def test_a_confirmed_message_or_a_connected_call_is_a_contact_everywhere(pages, kind):
    """A visible notice, an accepted email, a delivered text or a call that reached the
    borrower: contacted on every page that shows it."""
    client, case_id = pages(*CONTACTS[kind])

    assert _shown(client, case_id) == dict.fromkeys(
        ("case page", "queue", "overdue report", "overdue CSV", "dashboard"), True
    )
