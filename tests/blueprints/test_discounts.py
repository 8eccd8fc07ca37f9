"""Commercial's discounts through HTTP (R9): approved in one click or rejected with a note,
the row swapped in place; refused input gets the row again with its errors (422) and
changes nothing; the other roles get 403."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kamportal import clock
from kamportal.models import Quotation, QuotationStatus
from kamportal.services import discounts
from tests.blueprints.test_finance import (
    HTMX,
    field_errors,
    fresh,
    row,
    row_ids,
    section,
    text_of,
)
from tests.services import renewal_world

# The service tests' world: Monday 23 Nov 2026, 09:00 UTC. Mona Adel (ACM, team Cairo, led
# by Layla Nour) looks after Nile Crafts (NILE01, 12000 EGP a year, due in 20 days); Heba
# Finance; Hany Commercial; Omar, an ACM of team Dubai.
world = renewal_world.world


def ask(world, db, description: str, discount: str) -> Quotation:
    quotation = discounts.request_discount(
        world["client"], actor=world["acm"], description=description, discount=discount
    )
    db.session.commit()
    return quotation


def test_commercial_approves_in_one_click_and_rejects_with_a_note(world, db, login_as):
    """R9: a rejection without a note is refused (422) and changes nothing."""
    loyalty = ask(world, db, "Loyalty, 3rd year", "1200")
    clock.advance(timedelta(hours=1))
    greedy = ask(world, db, "Asked for 50%", "6000")
    http = login_as(world["commercial"])
    page = text_of(http.get("/discounts/"))
    assert row_ids(section(page, "requested-discounts"), "quotation") == [loyalty.id, greedy.id]
    listed = row(page, f"quotation-{loyalty.id}")
    for shown in ("Nile Crafts", "Loyalty, 3rd year", "EGP1,200.00", "Mona Adel"):
        assert shown in listed
    assert "Nothing here." in section(page, "decided-discounts")

    approved = http.post(
        f"/discounts/{loyalty.id}", data={"decision": "approve", "note": ""}, headers=HTMX
    )
    assert approved.status_code == 200
    html = text_of(approved)
    assert html.lstrip().startswith(f'<tr id="quotation-{loyalty.id}"') and "<html" not in html
    assert "Approved" in html and "by Hany Commercial" in html and "Reject" not in html
    assert fresh(db, Quotation, loyalty.id).quotation_status is QuotationStatus.APPROVED

    refused = http.post(
        f"/discounts/{greedy.id}", data={"decision": "reject", "note": " "}, headers=HTMX
    )
    assert refused.status_code == 422
    html = text_of(refused)
    assert "Say why the discount is rejected." in field_errors(html, f"quotation-{greedy.id}-note")
    assert fresh(db, Quotation, greedy.id).quotation_status is QuotationStatus.REQUESTED
    undecided = http.post(f"/discounts/{greedy.id}", data={"note": "x"}, headers=HTMX)
    assert undecided.status_code == 422
    assert "Approve or reject the discount." in text_of(undecided)

    rejected = http.post(
        f"/discounts/{greedy.id}",
        data={"decision": "reject", "note": "Above policy."},
        headers=HTMX,
    )
    assert rejected.status_code == 200
    assert "Rejected" in text_of(rejected) and "Above policy." in text_of(rejected)
    quotation = fresh(db, Quotation, greedy.id)
    assert quotation.quotation_status is QuotationStatus.REJECTED
    assert quotation.decided_by_id == world["commercial"].id

    page = text_of(http.get("/discounts/"))
    assert "Nothing here." in section(page, "requested-discounts")
    assert row_ids(section(page, "decided-discounts"), "decided") == [greedy.id, loyalty.id]


def test_without_javascript_a_decision_comes_back_to_the_discounts(world, db, login_as):
    quotation = ask(world, db, "Loyalty", "1200")
    http = login_as(world["commercial"])
    refused = http.post(f"/discounts/{quotation.id}", data={"decision": "reject"})
    assert refused.status_code == 422
    page = text_of(refused)
    assert "<html" in page and "Say why" in row(page, f"quotation-{quotation.id}")
    response = http.post(f"/discounts/{quotation.id}", data={"decision": "approve"})
    assert response.status_code == 303 and response.headers["Location"] == "/discounts/"
    assert "Discount of EGP1,200.00 for Nile Crafts approved." in text_of(http.get("/discounts/"))


@pytest.mark.parametrize("who", ["acm", "leader", "finance"])
def test_only_commercial_decides_discounts(world, db, login_as, who):
    quotation = ask(world, db, "Loyalty", "1200")
    http = login_as(world[who])
    assert http.get("/discounts/").status_code == 403
    for headers in ({}, HTMX):
        response = http.post(
            f"/discounts/{quotation.id}", data={"decision": "approve"}, headers=headers
        )
        assert response.status_code == 403
    assert fresh(db, Quotation, quotation.id).quotation_status is QuotationStatus.REQUESTED
