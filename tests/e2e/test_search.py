"""Finding anything from anywhere (issue 16) in a real browser: an ACM on their day presses
"/", types part of a store name, sees it drop down under the box (never another team's
client), and opens it from the keyboard or with a click; Escape closes the list, Enter in
the box opens the page of results."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in

# Long enough for the box's 250 ms pause and its request on a loaded CI machine.
SWAP = 10_000  # the debounce, then the answer, on a loaded CI machine


def test_slash_jumps_to_the_box_and_what_it_finds_opens_from_the_keyboard_or_a_click(
    page: Page, live_server, make_portfolio, make_client
):
    cairo = make_portfolio(
        team={"name": "Cairo"},
        acm={"name": "Amal Hassan"},
        client={"store_name": "Nile Crafts", "store_code": "NILE01"},
        contact={"name": "Mona Salem"},
    )
    make_client(acm=cairo.acm, store_name="Delta Home", store_code="DELTA1")
    make_portfolio(team={"name": "Dubai"}, client={"store_name": "Nile Pearl"})

    sign_in(page, live_server, cairo.acm)
    page.goto(f"{live_server}/day/")
    page.wait_for_load_state("load")
    box = page.get_by_role("searchbox", name="Find clients, contacts, invoices and tickets")
    results = page.locator("#finder-results")
    status = page.locator("#finder-status")

    page.keyboard.press("/")
    expect(box).to_be_focused()
    page.keyboard.type("crafts")
    expect(results).to_be_visible(timeout=SWAP)
    found = results.locator("a.found")
    expect(found).to_have_count(1)
    expect(found).to_contain_text("Nile Crafts")
    expect(status).to_have_text("1 client found.", timeout=SWAP)
    page.keyboard.press("ArrowDown")
    expect(found).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("Nile Crafts")
    expect(page).to_have_url(re.compile(rf"/clients/{cairo.client.id}$"))
    # The new page's scripts (deferred) listen for "/" once it has loaded.
    page.wait_for_load_state("load")

    # From the client page: another search, closed with Escape, opened again with the
    # arrow key; a click opens the result.
    page.keyboard.press("/")
    expect(box).to_be_focused()
    page.keyboard.type("nile")
    expect(results).to_be_visible(timeout=SWAP)
    expect(found).to_have_count(1)  # never the other team's Nile Pearl
    page.keyboard.press("Escape")
    expect(results).to_be_hidden()
    expect(box).to_be_focused()
    expect(box).to_have_value("nile")
    page.keyboard.press("ArrowDown")
    expect(found).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(box).to_be_focused()
    page.keyboard.press("Tab")
    expect(found).to_be_focused()
    found.click()
    expect(page).to_have_url(re.compile(rf"/clients/{cairo.client.id}$"))
    page.wait_for_load_state("load")

    # Enter in the box: the page of every kind found.
    page.keyboard.press("/")
    expect(box).to_be_focused()
    page.keyboard.type("mona")
    expect(status).to_have_text("1 contact found.", timeout=SWAP)
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Search")
    expect(page.locator("#found-contacts")).to_contain_text("Mona Salem")
    expect(page.locator("#search-summary")).to_have_text("1 contact found.")


def test_slash_is_typed_as_itself_in_a_field(page: Page, live_server, make_portfolio):
    cairo = make_portfolio(client={"store_name": "Nile Crafts"})
    sign_in(page, live_server, cairo.acm)
    page.goto(f"{live_server}/clients/")
    field = page.locator("main input[name=q]")
    field.click()
    page.keyboard.type("a/b")
    expect(field).to_have_value("a/b")
    expect(page.locator("#finder-q")).not_to_be_focused()
