"""Not selling (F4) over HTTP: the client page's panel and the record form."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kamportal import clock
from kamportal.services import not_selling
from tests.services.test_not_selling import NOW, YESTERDAY, sell

HTMX = {"HX-Request": "true"}


@pytest.fixture
def alert(make_portfolio, frozen_clock, db):
    frozen_clock(NOW)
    world = make_portfolio(client={"store_name": "Nile Crafts"})
    sell(world.client, YESTERDAY - timedelta(days=40), YESTERDAY - timedelta(days=8))
    not_selling.sweep(clock.now())
    db.session.commit()
    [alert] = not_selling.client_alerts(world.client)
    return world, alert


def test_the_client_page_shows_the_alert_and_its_form_F4(alert, login_as):
    world, the_alert = alert
    page = (
        login_as(world.acm)
        .get(f"/clients/{world.client.id}?tab=escalations")
        .get_data(as_text=True)
    )
    assert f'id="not-selling-{the_alert.id}"' in page
    assert "No orders for 8 days" in page and "Reasons found" in page


def test_recording_swaps_the_panel_and_tells_the_day_F4(alert, login_as, db):
    world, the_alert = alert
    url = f"/clients/{world.client.id}/not-selling/{the_alert.id}"
    response = login_as(world.acm).post(
        url, data={"reasons": "Out of stock", "actions": "Restock"}, headers=HTMX
    )
    assert response.status_code == 200
    assert "not-selling-changed" in response.headers["HX-Trigger"]
    assert response.headers["HX-Retarget"] == "#not-selling-panel"
    assert "Restock" in response.get_data(as_text=True)
    db.session.refresh(the_alert)
    assert the_alert.recorded_at is not None


@pytest.mark.parametrize(
    "data",
    [
        {"reasons": "", "actions": "Restock"},
        {"reasons": "Out\x00of stock", "actions": "Restock"},
        {"reasons": "x" * 3000, "actions": "Restock"},
    ],
)
def test_bad_input_gives_the_form_again_with_its_errors_F4(alert, login_as, data, db):
    world, the_alert = alert
    url = f"/clients/{world.client.id}/not-selling/{the_alert.id}"
    response = login_as(world.acm).post(url, data=data, headers=HTMX)
    assert response.status_code == 422
    assert f'id="not-selling-form-{the_alert.id}"' in response.get_data(as_text=True)
    db.session.refresh(the_alert)
    assert the_alert.recorded_at is None


def test_another_clients_alert_is_not_found_F4(alert, login_as, make_portfolio):
    _, the_alert = alert
    other = make_portfolio()
    response = login_as(other.acm).post(
        f"/clients/{other.client.id}/not-selling/{the_alert.id}",
        data={"reasons": "x", "actions": "y"},
    )
    assert response.status_code == 404
