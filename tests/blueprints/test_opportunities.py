"""P3 through HTTP: the client page's opportunities panel (add, edit, move in place), the
pipeline of each role with its totals and weighted forecast, a won customization's scope
of work starting its request (C1); bad input answers the form again, nothing saved."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from kamportal.models import CustomizationRequest, Opportunity, Role
from kamportal.models.types import utc
from kamportal.services import opportunities
from tests.blueprints.test_query_counts import counting_queries

HTMX = {"HX-Request": "true"}
FORM = {
    "kind": "plan_upgrade",
    "title": "Move to the Plus plan",
    "amount": "12,000",
    "currency": "EGP",
    "expected_close_on": "2026-12-20",
    "description": "",
}


@pytest.fixture
def world(make_portfolio, frozen_clock):
    frozen_clock(utc(2026, 12, 3, 10))
    return make_portfolio(client={"store_name": "Nile Crafts", "currency": "EGP"})


def text_of(response) -> str:
    return response.get_data(as_text=True)


def count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Opportunity))


def add(db, world, **changes) -> Opportunity:
    values = {
        "kind": "marketplace_app",
        "title": "Loyalty app",
        "amount": "900",
        "currency": "EGP",
        "expected_close_on": date(2026, 12, 20),
    }
    opportunity = opportunities.add_opportunity(
        world.client, actor=world.acm, details=opportunities.Details(**(values | changes))
    )
    db.session.commit()
    return opportunity


def test_the_client_page_shows_the_panel_and_its_opportunities_P3(world, login_as, db):
    add(db, world)
    page = text_of(login_as(world.acm).get(f"/clients/{world.client.id}?tab=growth"))
    panel = page[page.index('id="opportunity-panel"') :]
    assert "Add an opportunity" in panel and "Loyalty app" in panel and "EGP" in panel


def test_adding_swaps_the_panel_in_the_clients_currency_P3(world, login_as, db):
    http = login_as(world.acm)
    form = text_of(http.get(f"/clients/{world.client.id}/opportunities/new", headers=HTMX))
    assert 'selected value="EGP"' in form
    response = http.post(f"/clients/{world.client.id}/opportunities/new", data=FORM, headers=HTMX)
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#opportunity-panel"
    assert "Move to the Plus plan" in text_of(response)
    [opportunity] = db.session.scalars(select(Opportunity)).all()
    assert opportunity.money.amount == Decimal("12000") and opportunity.stage == "identified"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount", "1e30"),
        ("title", "Plus\x00plan"),
        ("expected_close_on", "9999-12-31"),
        ("kind", "franchise"),
        ("currency", "EURO"),
    ],
)
def test_bad_input_answers_the_form_with_the_field_error_nothing_saved_P3(
    world, login_as, db, field, value
):
    response = login_as(world.acm).post(
        f"/clients/{world.client.id}/opportunities/new", data=FORM | {field: value}, headers=HTMX
    )
    assert response.status_code == 422
    assert f'id="field-opportunity-{field}"' in text_of(response)
    assert 'class="error"' in text_of(response)
    assert count(db) == 0


def test_a_stage_change_in_place_returns_the_row_P3(world, login_as, db):
    opportunity = add(db, world)
    http = login_as(world.acm)
    url = f"/opportunities/{opportunity.id}/stage"
    response = http.post(url, data={"stage": "negotiating"}, headers=HTMX)
    assert response.status_code == 200
    row = text_of(response)
    assert f'<tr id="opportunity-{opportunity.id}" data-stage="negotiating"' in row
    assert "opportunity-changed" in response.headers["HX-Trigger"]
    # Lost without a reason: the row again with the error, nothing changed.
    refused = http.post(url, data={"stage": "lost", "reason": ""}, headers=HTMX)
    assert refused.status_code == 422 and "Say why it is lost." in text_of(refused)
    db.session.expire_all()
    assert db.session.get(Opportunity, opportunity.id).stage == "negotiating"
    # In the pipeline, the row carries its client.
    lost = {"stage": "lost", "reason": "No budget"}
    moved = http.post(url + "?in=pipeline", data=lost, headers=HTMX)
    assert moved.status_code == 200 and "Nile Crafts" in text_of(moved)
    # Without HTMX, back to the page it came from.
    plain = http.post(url, data={"stage": "proposed"})
    assert plain.status_code == 303 and plain.headers["Location"].endswith("#opportunity-panel")


def test_winning_a_customization_asks_its_scope_of_work_and_opens_the_request_C1_P3(
    world, login_as, db
):
    opportunity = add(db, world, kind="customization", title="Gift wrapping", description="Wrap")
    http = login_as(world.acm)
    row = text_of(http.get(f"/clients/{world.client.id}/opportunities", headers=HTMX))
    assert f"/opportunities/{opportunity.id}/win" in row
    assert 'value="won"' not in row  # won goes through the scope of work
    page = text_of(http.get(f"/opportunities/{opportunity.id}/win"))
    assert "Scope of work" in page and "Wrap</textarea>" in page
    url = f"/opportunities/{opportunity.id}/win"
    incomplete = http.post(url, data={"end_result": "Wrap", "users": "", "done_when": "x"})
    assert incomplete.status_code == 422 and db.session.scalar(select(CustomizationRequest)) is None
    response = http.post(
        url,
        data={
            "end_result": "Gift wrapping at checkout",
            "users": "Customers",
            "done_when": "A test order shows it",
            "wanted_by": (date(2026, 12, 3) + timedelta(days=40)).isoformat(),
        },
    )
    request = db.session.scalar(select(CustomizationRequest))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/customizations/{request.id}")
    db.session.expire_all()
    won = db.session.get(Opportunity, opportunity.id)
    assert won.stage == "won" and won.customization_request_id == request.id


def test_the_pipeline_is_the_acms_own_the_leaders_team_and_admins_all_P3(
    world, login_as, db, make_portfolio, make_user
):
    add(db, world, title="Ours")
    other = make_portfolio(client={"store_name": "Gulf Home", "currency": "AED"})
    opportunities.add_opportunity(
        other.client,
        actor=other.acm,
        details=opportunities.Details(
            kind="service",
            title="Theirs",
            amount="50",
            currency="AED",
            expected_close_on=date(2026, 12, 10),
        ),
    )
    db.session.commit()
    acm_page = text_of(login_as(world.acm).get("/opportunities/"))
    assert "Ours" in acm_page and "Theirs" not in acm_page
    assert "Identified 10%" in acm_page and 'data-month="2026-12-01"' in acm_page
    leader_page = text_of(login_as(world.leader).get("/opportunities/"))
    assert "Ours" in leader_page and "Theirs" not in leader_page
    admin = login_as(make_user(Role.ADMIN))
    assert "Theirs" in text_of(admin.get("/opportunities/"))
    only_theirs = text_of(admin.get(f"/opportunities/?team={other.team.id}"))
    assert "Theirs" in only_theirs and "Ours" not in only_theirs
    for role in (Role.FINANCE, Role.PRODUCT, Role.COMMERCIAL):
        assert login_as(role).get("/opportunities/").status_code == 403


def test_the_pipelines_query_count_does_not_grow_with_it_P3(world, login_as, db):
    http = login_as(world.acm)

    def queries(more: int) -> int:
        for n in range(more):
            added = add(db, world, title=f"App {n}", expected_close_on=date(2026, 12, 1 + n % 28))
            if n % 3 == 0:
                opportunities.move_opportunity(added, actor=world.acm, stage="proposed")
                db.session.commit()
        with counting_queries(db.engine) as statements:
            assert http.get("/opportunities/").status_code == 200
        return len(statements)

    small = queries(5)
    assert queries(60) == small
