"""Not selling (F4) in a real browser: an ACM opens their day, follows the not-selling
alert to the client page, records the reasons and actions (the panel swapped in place),
and the item is gone from the day."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect

from kamportal import clock
from kamportal.services import not_selling
from tests.e2e.conftest import sign_in
from tests.e2e.test_clients import SWAP, mark_document, same_document
from tests.services.test_not_selling import NOW, YESTERDAY, sell


def test_an_acm_records_reasons_on_a_not_selling_alert_and_it_leaves_the_day_F4(
    db, page: Page, live_server, make_portfolio, frozen_clock
):
    frozen_clock(NOW)
    world = make_portfolio(client={"store_name": "Nile Crafts", "timezone": "Africa/Cairo"})
    sell(world.client, YESTERDAY - timedelta(days=40), YESTERDAY - timedelta(days=8))
    not_selling.sweep(clock.now())
    db.session.commit()

    sign_in(page, live_server, world.acm)
    section = page.locator("#day-not_selling")
    expect(section).to_contain_text("Nile Crafts")
    expect(section).to_contain_text("No orders for 8 days")
    section.get_by_role("link", name="record the reasons and actions").click()
    page.wait_for_load_state("load")
    mark_document(page)

    panel = page.locator("#not-selling-panel")
    form = panel.locator("form")
    # Sent empty, the form comes back with what is missing.
    form.get_by_role("button", name="Record").click()
    expect(panel.get_by_text("Say why the store is not selling")).to_be_visible(timeout=SWAP)
    form = panel.locator("form")
    form.get_by_label("Reasons found").fill("Payment gateway down since the 1st")
    form.get_by_label("Actions agreed with the client").fill("Switch gateway by Sunday")
    form.get_by_role("button", name="Record").click()
    expect(panel).to_contain_text("Switch gateway by Sunday", timeout=SWAP)
    expect(panel.locator("form")).to_have_count(0)
    assert same_document(page)
    # The overview's timeline has it.
    page.get_by_role("navigation", name="Client page sections").get_by_role(
        "link", name="Overview"
    ).click()
    expect(page.locator("#timeline")).to_contain_text("reasons and actions", timeout=SWAP)

    page.goto("/")
    expect(page.locator("#day-not_selling")).to_contain_text("Nothing here.")
