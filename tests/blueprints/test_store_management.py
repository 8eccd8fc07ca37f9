"""F6 over HTTP: the store manager's page (their clients' duties owed and done, the
data-entry requests), changes in place, the client page's card, and its query count."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from kamportal import clock
from kamportal.models import DataEntryRequest, DutyDone, Role
from kamportal.services import store_management
from tests.blueprints.test_query_counts import counting_queries

HTMX = {"HX-Request": "true"}


@pytest.fixture
def world(make_portfolio, make_user, frozen_clock, db):
    frozen_clock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))  # Monday, 11:00 in Cairo
    portfolio = make_portfolio(
        team={"name": "Cairo"},
        client={"store_name": "Nile Crafts", "timezone": "Africa/Cairo", "has_store_manager": True},
    )
    sara = make_user(Role.STORE_MANAGER, name="Sara Store")
    store_management.assign_store_manager(portfolio.client, sara, actor=portfolio.leader)
    db.session.commit()
    return portfolio, sara


def test_a_store_manager_lands_on_their_clients_duties_F6(world, login_as):
    _, sara = world
    page = login_as(sara).get("/").get_data(as_text=True)
    assert "Store management" in page and "Nile Crafts" in page
    assert "Customers&#39; pre- and post-sales inquiries" in page
    assert f"Duties owed now ({len(store_management.DUTIES)} of" in page


def test_a_duty_marked_done_swaps_the_card_in_place_F6(db, world, login_as):
    portfolio, sara = world
    client = portfolio.client
    http = login_as(sara)
    url = f"/store-manager/clients/{client.id}/duties"
    response = http.post(
        url, data={"duty": "customer_care", "note": "9 inquiries answered"}, headers=HTMX
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<section class="card store-card" id="store-card-{client.id}"')
    assert "9 inquiries answered" in html
    assert 'value="customer_care"' not in html and 'value="store_operations"' in html
    assert db.session.scalar(select(DutyDone.note)) == "9 inquiries answered"
    again = http.post(url, data={"duty": "customer_care"}, headers=HTMX)
    assert again.status_code == 422 and "done for this period already" in again.get_data(
        as_text=True
    )


@pytest.mark.parametrize("duty", ["", "sweep_floor"])
def test_a_duty_not_owed_is_refused_in_the_card_F6(db, world, login_as, duty):
    portfolio, sara = world
    client = portfolio.client
    http = login_as(sara)
    url = f"/store-manager/clients/{client.id}/duties"
    swapped = http.post(url, data={"duty": duty, "note": "kept"}, headers=HTMX)
    html = swapped.get_data(as_text=True)
    assert swapped.status_code == 422
    assert html.lstrip().startswith(f'<section class="card store-card" id="store-card-{client.id}"')
    assert "Choose a duty owed now." in html and 'value="kept"' in html
    # Without JavaScript: a page with the card and the error.
    page = http.post(url, data={"duty": duty})
    assert page.status_code == 422 and "Choose a duty owed now." in page.get_data(as_text=True)
    assert "<html" in page.get_data(as_text=True)
    assert db.session.scalar(select(DutyDone)) is None


def test_without_javascript_a_duty_done_goes_back_to_the_page_F6(db, world, login_as):
    portfolio, sara = world
    client = portfolio.client
    response = login_as(sara).post(
        f"/store-manager/clients/{client.id}/duties",
        data={"duty": "seo_catalogue"},
        headers={"Referer": "/store-manager/"},
    )
    assert response.status_code == 303 and response.location.endswith("/store-manager/")
    assert db.session.scalar(select(DutyDone.duty)) == "seo_catalogue"


def test_the_store_card_stays_small_whatever_it_owes_or_did_F6(
    db, world, login_as, make_user, frozen_clock
):
    """Issue 17: the growth tab of a store-managed client, as an admin (who marks duties
    and assigns the store manager), with a dozen store managers, is at most 10 KB: with
    every duty owed, each still offered to mark done; after a week of every duty done
    each day with a note, the latest listed, the others on the timeline."""
    portfolio, sara = world
    client = portfolio.client
    for n in range(11):
        make_user(Role.STORE_MANAGER, name=f"Store Manager Number {n}")
    admin = make_user(Role.ADMIN, name="Ada Admin")
    db.session.commit()
    http = login_as(admin)

    def growth_tab() -> str:
        response = http.get(f"/clients/{client.id}/tabs/growth", headers=HTMX)
        assert response.status_code == 200 and len(response.data) <= 10 * 1024
        return response.get_data(as_text=True)

    html = growth_tab()
    assert f"Duties owed now ({len(store_management.DUTIES)} of" in html
    for duty in store_management.DUTIES:
        assert f'<input type="radio" name="duty" value="{duty.key}">' in html
    assert f'action="/store-manager/clients/{client.id}/duties"' in html
    assert f'hx-get="/clients/{client.id}/store-manager"' in html  # assign, once asked

    for day in range(16, 24):  # from last Monday to this one, 10:00 in Cairo
        frozen_clock(datetime(2026, 11, day, 8, 0, tzinfo=UTC))
        for state in store_management.duty_states([client], now=clock.now()):
            if state.owed:
                store_management.mark_done(
                    client, state.duty.key, actor=sara, note="Done as agreed with the client"
                )
        db.session.commit()
    frozen_clock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    html = growth_tab()
    assert "Duties owed now (0 of" in html and "more, on" in html


def test_the_acm_logs_a_data_entry_request_on_the_client_page_F6(db, world, login_as):
    portfolio, _ = world
    client = portfolio.client
    http = login_as(portfolio.acm)
    page = http.get(f"/clients/{client.id}?tab=growth").get_data(as_text=True)
    assert "Online Store Manager" in page and "Sara Store" in page
    # The ACM sees the duties but does not mark them.
    assert f"/store-manager/clients/{client.id}/duties" not in page
    assert 'type="radio" name="duty"' not in page
    bad = http.post(
        f"/store-manager/clients/{client.id}/data-entry",
        data={f"entry-{client.id}-description": "", f"entry-{client.id}-size": "small"},
        headers=HTMX,
    )
    assert bad.status_code == 422 and "Say what the client asked." in bad.get_data(as_text=True)
    assert db.session.scalar(select(DataEntryRequest)) is None
    good = http.post(
        f"/store-manager/clients/{client.id}/data-entry",
        data={
            f"entry-{client.id}-description": "Add the 12 summer products",
            f"entry-{client.id}-size": "small",
        },
        headers=HTMX,
    )
    assert good.status_code == 200 and "Add the 12 summer products" in good.get_data(as_text=True)


def test_the_leader_assigns_the_store_manager_from_the_card_F6(db, world, login_as, make_user):
    portfolio, _ = world
    client = portfolio.client
    omar = make_user(Role.STORE_MANAGER, name="Omar Store")
    db.session.commit()
    http = login_as(portfolio.leader)
    url = f"/clients/{client.id}/store-manager"
    # The store managers to choose from come once asked for, in the card.
    tab = http.get(f"/clients/{client.id}/tabs/growth", headers=HTMX).get_data(as_text=True)
    assert f'hx-get="{url}"' in tab and "Omar Store" not in tab
    opened = http.get(url, headers=HTMX).get_data(as_text=True)
    assert opened.lstrip().startswith(
        f'<section class="card store-card" id="store-card-{client.id}"'
    )
    assert "Omar Store" in opened and f'name="assign-{client.id}-store_manager_id"' in opened
    assert "Omar Store" in http.get(url).get_data(as_text=True)  # without JavaScript: a page
    response = http.post(
        url, data={f"assign-{client.id}-store_manager_id": str(omar.id)}, headers=HTMX
    )
    assert response.status_code == 200 and "Omar Store" in response.get_data(as_text=True)
    db.session.refresh(client)
    assert client.store_manager_id == omar.id
    # The ACM sees who it is, and does not choose.
    acm = login_as(portfolio.acm)
    assert f'hx-get="{url}"' not in acm.get(f"/clients/{client.id}/tabs/growth").get_data(
        as_text=True
    )
    assert acm.get(url, headers=HTMX).status_code == 403


def test_another_store_managers_client_is_not_found_F6(world, login_as, make_user):
    portfolio, _ = world
    other = make_user(Role.STORE_MANAGER, name="Other Store")
    response = login_as(other).post(
        f"/store-manager/clients/{portfolio.client.id}/duties",
        data={"duty": "customer_care"},
        headers=HTMX,
    )
    assert response.status_code == 404
    assert "Nile Crafts" not in login_as(other).get("/store-manager/").get_data(as_text=True)


def test_the_store_managers_page_query_count_does_not_grow_with_their_clients_F6(
    db, world, login_as, make_client
):
    portfolio, sara = world

    def statements() -> int:
        http = login_as(sara)
        with counting_queries(db.engine) as seen:
            assert http.get("/store-manager/").status_code == 200
        return len(seen)

    few = statements()
    for n in range(12):
        client = make_client(acm=portfolio.acm, store_name=f"Store {n}", has_store_manager=True)
        client.store_manager_id = sara.id
        store_management.log_request(client, actor=sara, description="x", size="small")
    db.session.commit()
    assert statements() == few
