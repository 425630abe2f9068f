"""The collector's case page shows the case loan's plan offers, sized by the latest structured
assessment (what the borrower can pay a month, else a share of the income); both languages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from portal.auth.models import Role
from portal.collections.models import ArrearsReason, Assessment, Willingness
from portal.extensions import db
from portal.timeutil import local_today, utcnow
from tests.collections.conftest import make_case
from tests.conftest import login, page_text


@pytest.fixture
def case(app, make_user, make_loan):
    borrower = make_user(Role.BORROWER)
    collector = make_user(Role.COLLECTOR, locale="en")
    today = local_today("Asia/Shanghai", utcnow())
    loan_id = make_loan(borrower.id, disbursed_on=today - timedelta(days=45))
    case_id = make_case(app, borrower_id=borrower.id, loan_id=loan_id, assigned_to=collector.id)
    return {
        "collector": collector,
        "case_id": case_id,
        "url": f"/staff/collections/cases/{case_id}",
    }


def _assess(app, case, *, income=None, can_pay=None):
    with app.app_context():
        db.session.add(
            Assessment(
                case_id=case["case_id"],
                income_situation="Shop work",
                monthly_income_minor=income,
                arrears_reason=next(iter(ArrearsReason)),
                willingness=next(iter(Willingness)),
                can_pay_minor_per_month=can_pay,
                next_step="Offer a plan",
                author_id=case["collector"].id,
                created_at=utcnow(),
            )
        )
        db.session.commit()


def _marks(html: str) -> list[str]:
    return re.findall(r'data-testid="offer-(affordable|out-of-reach)"', html)


def test_without_an_assessment_offers_are_unmarked(client, case):
    login(client, case["collector"])
    response = client.get(case["url"])
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count('data-testid="plan-offer"') == 4
    assert _marks(html) == []
    assert "Record an assessment" in page_text(response)


def test_what_the_borrower_can_pay_marks_the_offers(app, client, case):
    _assess(app, case, income=500_000, can_pay=60_000)
    login(client, case["collector"])
    response = client.get(case["url"])
    assert "the borrower can pay CN¥600.00 a month" in page_text(response)
    assert _marks(response.get_data(as_text=True)) == [
        "affordable",
        "affordable",
        "out-of-reach",
        "out-of-reach",
    ]


def test_income_alone_uses_the_policy_share(app, client, case):
    _assess(app, case, income=100_000)
    login(client, case["collector"])
    response = client.get(case["url"])
    text = page_text(response)
    assert "30.00% of a monthly income of CN¥1,000.00 is CN¥300.00" in text
    assert "You can afford" not in text  # the borrower's words, not the collector's
    assert _marks(response.get_data(as_text=True)) == ["affordable"] + ["out-of-reach"] * 3


def test_in_chinese(app, client, make_user, case):
    zh = make_user(Role.ADMIN, locale="zh_CN")
    login(client, zh)
    text = page_text(client.get(case["url"]))
    assert "还款计划方案" in text
