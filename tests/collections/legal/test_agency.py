"""Outside agencies: placing approved cases, the agency's updates, recalls, and the CSV export."""

from __future__ import annotations

import csv
import io

from sqlalchemy import func, select

from portal.auth.models import Role
from portal.collections.legal.agency import active_placement_rows
from portal.collections.models import AgencyPlacement
from portal.extensions import db
from tests.collections.legal.conftest import (
    approved_case,
    events,
    open_case,
    post,
    request_approval,
    signed_in,
)
from tests.conftest import csrf_token, page_text

EXPORT = "/staff/collections/legal/placements.csv"


def _place(client, case, agency: str = "Prudent Recoveries Ltd"):
    return post(client, case.url("placement"), {"agency": agency}, form_page=case.url())


def _placements() -> list[AgencyPlacement]:
    db.session.expire_all()
    return list(db.session.scalars(select(AgencyPlacement).order_by(AgencyPlacement.id)))


def _export(client) -> list[list[str]]:
    response = client.get(EXPORT)
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def test_admin_places_an_approved_case(app, make_user, make_loan):
    """The placement is stored with who and when, audited, and shown on the case page."""
    case, admin_client, admin = approved_case(app, make_user, make_loan)
    response = _place(admin_client, case, "  Prudent Recoveries Ltd ")
    assert response.status_code == 303
    assert "Placed with Prudent Recoveries Ltd" in page_text(admin_client.get(case.url()))
    with app.app_context():
        [placement] = _placements()
        assert (placement.agency, placement.placed_by, placement.status) == (
            "Prudent Recoveries Ltd",
            admin.id,
            "placed",
        )
        assert placement.recalled_at is None
        [event] = events("agency.placed")
        assert event.details == {"case_id": case.case_id, "agency": "Prudent Recoveries Ltd"}


def test_a_case_not_approved_cannot_be_placed(app, make_user, make_loan):
    """Only approved cases go to an agency: a requested case is refused, nothing stored."""
    case = open_case(app, make_user, make_loan)
    request_approval(signed_in(app, case.collector), case)
    admin_client = signed_in(app, make_user(Role.ADMIN, locale="en"))
    response = _place(admin_client, case)
    assert response.status_code == 409
    assert "has not been approved for the legal stage" in page_text(response)
    with app.app_context():
        assert _placements() == []
        assert events("agency.placed") == []


def test_a_case_is_placed_once_at_a_time(app, make_user, make_loan):
    """A second placement while one is active is refused."""
    case, admin_client, _admin = approved_case(app, make_user, make_loan)
    _place(admin_client, case)
    response = _place(admin_client, case, "Another Agency")
    assert response.status_code == 409
    assert "already placed with an agency" in page_text(response)
    with app.app_context():
        assert [p.agency for p in _placements()] == ["Prudent Recoveries Ltd"]


def test_collectors_cannot_place_recall_or_update(app, make_user, make_loan):
    """Agency actions are for admins: the case's own collector gets 403 on each."""
    case, admin_client, _admin = approved_case(app, make_user, make_loan)
    _place(admin_client, case)
    collector = signed_in(app, case.collector)
    token = csrf_token(collector, case.url())
    for tail, data in (
        ("placement", {"agency": "Other"}),
        ("recall", {"note": ""}),
        ("agency-update", {"status": "paid", "note": ""}),
    ):
        assert collector.post(case.url(tail), data={"csrf_token": token, **data}).status_code == 403
    assert collector.get(EXPORT).status_code == 403
    with app.app_context():
        [placement] = _placements()
        assert (placement.status, placement.updates, placement.recalled_at) == ("placed", [], None)


def test_agency_updates_are_appended_with_time_and_author(app, make_user, make_loan):
    """Each update adds an entry (when, who, status, note) and becomes the current status."""
    case, admin_client, admin = approved_case(app, make_user, make_loan)
    _place(admin_client, case)
    for status, note in (("contacted", "Borrower answered."), ("promise", "Will pay on the 5th.")):
        response = post(
            admin_client,
            case.url("agency-update"),
            {"status": status, "note": note},
            form_page=case.url(),
        )
        assert response.status_code == 303
    assert "Will pay on the 5th." in page_text(admin_client.get(case.url()))
    with app.app_context():
        [placement] = _placements()
        assert placement.status == "promise"
        assert [(u["status"], u["note"], u["by"], u["by_name"]) for u in placement.updates] == [
            ("contacted", "Borrower answered.", admin.id, "Ada Admin"),
            ("promise", "Will pay on the 5th.", admin.id, "Ada Admin"),
        ]
        assert all(u["at"].endswith("+00:00") for u in placement.updates)
        assert [e.details["status"] for e in events("agency.updated")] == ["contacted", "promise"]


def test_an_update_needs_a_status(app, make_user, make_loan):
    """A blank status is refused next to the field; no update is stored."""
    case, admin_client, _admin = approved_case(app, make_user, make_loan)
    _place(admin_client, case)
    response = post(
        admin_client, case.url("agency-update"), {"status": " ", "note": "x"}, form_page=case.url()
    )
    assert response.status_code == 422
    assert "Please enter the agency's status." in page_text(response)
    with app.app_context():
        assert _placements()[0].updates == []


def test_recall_ends_the_placement_and_allows_a_new_one(app, make_user, make_loan):
    """A recall is kept, leaves the export, allows a new placement, and cannot repeat."""
    case, admin_client, _admin = approved_case(app, make_user, make_loan)
    _place(admin_client, case)
    response = post(
        admin_client, case.url("recall"), {"note": "No progress."}, form_page=case.url()
    )
    assert response.status_code == 303
    assert len(_export(admin_client)) == 1  # the header only
    again = post(admin_client, case.url("recall"), {"note": ""}, form_page=case.url())
    assert again.status_code == 409
    assert _place(admin_client, case, "Second Agency").status_code == 303
    with app.app_context():
        first, second = _placements()
        assert (first.status, first.recalled_at is not None) == ("recalled", True)
        assert first.updates[-1]["note"] == "No progress."
        assert (second.agency, second.recalled_at) == ("Second Agency", None)
        [event] = events("agency.recalled")
        assert event.details["note"] == "No progress."


def test_export_lists_active_placements_with_amounts(app, make_user, make_loan):
    """One row per active placement: case, loan, borrower, phone, amounts by component, DPD."""
    case, admin_client, admin = approved_case(app, make_user, make_loan, name="王芳")
    _place(admin_client, case, '=HYPERLINK("http://evil")')
    header, *rows = _export(admin_client)
    assert header == [
        "Case ID",
        "Loan reference",
        "Borrower",
        "Phone",
        "Principal overdue",
        "Interest overdue",
        "Fees overdue",
        "Late charges overdue",
        "Total overdue",
        "Currency",
        "Days past due",
        "Agency",
        "Status",
        "Placed at (UTC)",
    ]
    [row] = rows
    record = dict(zip(header, row, strict=True))
    assert record["Case ID"] == str(case.case_id)
    assert record["Loan reference"].startswith("LN-T")
    assert (record["Borrower"], record["Phone"]) == ("王芳", "+8613812345678")
    assert (record["Principal overdue"], record["Interest overdue"]) == ("2500.00", "200.00")
    assert (record["Fees overdue"], record["Total overdue"]) == ("30.00", "2730.00")
    assert (record["Currency"], record["Days past due"]) == ("CNY", "136")
    assert record["Agency"] == '\'=HYPERLINK("http://evil")'  # never a live formula
    assert record["Status"] == "Placed"
    assert record["Placed at (UTC)"].endswith("+00:00")
    with app.app_context():
        [event] = events("agency.placements_exported")
        assert event.actor_id == admin.id


def test_export_pages_through_every_active_placement(app, make_user, make_loan):
    """Rows are read a batch at a time by id, and every active placement appears once."""
    ids = []
    for n in range(3):
        case, admin_client, _admin = approved_case(app, make_user, make_loan, name=f"B{n}")
        _place(admin_client, case)
        ids.append(case.case_id)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AgencyPlacement)) == 3
        assert [row[0] for row in active_placement_rows(batch_size=1)] == ids
