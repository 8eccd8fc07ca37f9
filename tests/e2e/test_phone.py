"""The portal at phone width (issue 16): on a 390 px wide screen each role's main pages,
full of the demo portfolio, are no wider than the screen, and the navigation opens from
its menu button."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import quote_plus

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from kamportal import demo
from kamportal.demo import DEMO_PASSWORD
from kamportal.extensions import db as _db
from kamportal.models import (
    AccountPlan,
    Client,
    CustomizationRequest,
    LifecycleStatus,
    TimelineEvent,
    User,
)
from tests.conftest import app_on_its_own_database
from tests.e2e.conftest import sign_in

PHONE = {"width": 390, "height": 844}
pytestmark = pytest.mark.browser_context_args(viewport=PHONE, is_mobile=True, has_touch=True)

ACM = "ahmed.samir@kam.example"
LEADER = "mona.adel@kam.example"
ADMIN = "admin@kam.example"
FINANCE = "heba.soliman@kam.example"
PRODUCT = "dina.farouk@kam.example"
COMMERCIAL = "hany.lotfy@kam.example"
STORE_MANAGER = "mariam.adel@kam.example"

# What sticks out past the screen's right edge: the innermost elements (those none of whose
# children stick out), widest first, each with its path and the start of its text.
WIDEST_ELEMENTS = """(limit) => {
  const out = [...document.querySelectorAll("body *")].filter(
    (el) => el.getBoundingClientRect().right > limit + 0.5);
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + [...el.classList].map((c) => "." + c).join("");
  const path = (el) => [el.parentElement?.parentElement, el.parentElement, el]
    .filter(Boolean).map(name).join(" > ");
  return out
    .filter((el) => ![...el.children].some((child) => out.includes(child)))
    .sort((a, b) => b.getBoundingClientRect().right - a.getBoundingClientRect().right)
    .slice(0, 5)
    .map((el) => `${path(el)} (right edge ${Math.round(el.getBoundingClientRect().right)}px): `
      + JSON.stringify(el.textContent.trim().replace(/\\s+/g, " ").slice(0, 60)));
}"""


@pytest.fixture(scope="module")
def app(database_template, tmp_path_factory) -> Iterator[Flask]:
    """The demo portfolio, seeded once for the module's pages (they only read it)."""
    with app_on_its_own_database(database_template, tmp_path_factory.mktemp("phone")) as app:
        demo.seed_demo(clients=30)
        _db.session.commit()
        yield app


def _user(email: str) -> User:
    return _db.session.scalars(select(User).where(User.email == email)).one()


def _busiest_client(acm: User) -> Client:
    """The ACM's live client with an account plan: the page with the most on it."""
    return _db.session.scalars(
        select(Client)
        .join(AccountPlan, AccountPlan.client_id == Client.id)
        .where(Client.acm_id == acm.id, Client.status == LifecycleStatus.LIVE.value)
    ).first()


def _launching_client(acm: User) -> Client:
    return _db.session.scalars(
        select(Client)
        .where(Client.acm_id == acm.id, Client.status == LifecycleStatus.ONBOARDING.value)
        .outerjoin(TimelineEvent, TimelineEvent.client_id == Client.id)
        .group_by(Client.id)
        .order_by(func.count(TimelineEvent.id).desc())
    ).first()


def _pages(email: str) -> list[str]:
    """The role's main pages, as the navigation offers them."""
    user = _user(email)
    if email == ACM:
        client, launching = _busiest_client(user), _launching_client(user)
        request = _db.session.scalars(
            select(CustomizationRequest).join(Client).where(Client.acm_id == user.id)
        ).first()
        return [
            "/day/",
            "/clients/",
            f"/clients/{client.id}",
            f"/clients/{client.id}?tab=renewals",
            f"/clients/{client.id}?tab=growth",
            f"/clients/{client.id}/plan",
            f"/clients/{launching.id}",
            f"/customizations/{request.id}",
            "/escalations/",
            "/complaints/",
            "/renewals/",
            "/renewals/forecast",
            "/opportunities/",
            "/figures/upload",
            "/notifications/",
        ]
    return {
        LEADER: ["/team/", "/clients/", "/day/", "/opportunities/", "/renewals/forecast"],
        ADMIN: [
            "/admin/users",
            "/admin/teams",
            "/admin/users/new",
            "/admin/integrations",
            "/admin/catalogue",
            "/admin/calendar",
        ],
        FINANCE: ["/finance/", "/renewals/forecast"],
        PRODUCT: ["/customizations/"],
        COMMERCIAL: ["/discounts/"],
        STORE_MANAGER: ["/store-manager/"],
    }[email]


def assert_fits_the_screen(page: Page, path: str) -> None:
    """The page is no wider than the screen: a phone's browser would rather zoom out (a
    wider window) than cut a page that sticks out."""
    page.goto(path)
    page.wait_for_load_state("load")
    screen = PHONE["width"]
    wide, window = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if wide > window or window != screen:
        sticking_out = "\n  ".join(page.evaluate(WIDEST_ELEMENTS, screen))
        pytest.fail(
            f"{path} is {max(wide, window)}px wide on a {screen}px screen:\n  {sticking_out}"
        )


@pytest.mark.parametrize("email", [ACM, LEADER, ADMIN, FINANCE, PRODUCT, COMMERCIAL, STORE_MANAGER])
def test_every_main_page_fits_a_phone_screen(page: Page, live_server, email):
    """Issue 16: nothing is wider than a 390 px screen, for each role's pages."""
    sign_in(page, live_server, _user(email), DEMO_PASSWORD)
    for path in _pages(email):
        assert_fits_the_screen(page, path)


def test_tables_show_each_cell_with_its_column_heading_on_a_phone(page: Page, live_server):
    """A table row is a stack of cells, each named by its column (the client list)."""
    sign_in(page, live_server, _user(ACM), DEMO_PASSWORD)
    page.goto("/clients/")
    row = page.locator("#client-table tbody tr").first
    status = row.locator("td").nth(2)
    expect(status).to_have_attribute("data-label", "Status")
    store, code = row.locator("td").nth(0).bounding_box(), row.locator("td").nth(1).bounding_box()
    assert code["y"] >= store["y"] + store["height"], "the code is under the store's name"
    assert code["x"] == store["x"]


def test_rows_htmx_swaps_in_and_abbreviated_headings_are_labelled_too(page: Page, live_server):
    """The client list filtered in place (an htmx swap) keeps its labels; the team page's
    rule-ID headings label their cells with what the rule is about."""
    sign_in(page, live_server, _user(LEADER), DEMO_PASSWORD)
    page.goto("/clients/")
    # The first three letters of a store on the list: a search takes at least three.
    typed = page.locator("#client-table tbody td").first.inner_text().strip()[:3]
    page.get_by_label("Search").fill(typed)
    expect(page).to_have_url(re.compile(r"q=" + re.escape(quote_plus(typed))))
    expect(page.locator("#client-table tbody td").nth(1)).to_have_attribute("data-label", "Code")

    page.goto("/team/")
    late = page.locator("#late tbody tr").first
    expect(late.locator("td").first).to_have_attribute("data-label", "Weekly contact overdue")


@pytest.mark.browser_context_args(viewport={"width": 1280, "height": 800})
def test_the_navigation_shows_without_a_menu_button_on_a_desktop(page: Page, live_server):
    sign_in(page, live_server, _user(LEADER), DEMO_PASSWORD)
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.get_by_text("Menu", exact=True)).to_be_hidden()
    row = page.locator("#late tbody tr").first
    first, second = row.locator("td").nth(0).bounding_box(), row.locator("td").nth(1).bounding_box()
    assert first["y"] == second["y"], "a table row is one line"


def test_the_navigation_opens_from_its_menu_button_on_a_phone(page: Page, live_server):
    """Issue 16: the navigation collapses into a menu button; each link is on the screen
    once the menu is open, and opens its page."""
    sign_in(page, live_server, _user(LEADER), DEMO_PASSWORD)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_hidden()

    page.get_by_text("Menu", exact=True).click()
    expect(nav).to_be_visible()
    links = nav.get_by_role("link")
    assert links.count() >= 5
    for link in links.all():
        expect(link).to_be_in_viewport()
        box = link.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]

    nav.get_by_role("link", name="Renewals").click()
    expect(page.locator("h1")).to_contain_text("Renewals")
    expect(nav).to_be_hidden()
