"""Customization requests in a real browser (C1-C3): an ACM opens one from the client page
with its scope of work and a PDF; product, signed in in a browser of its own, lands on its
queue with the 48-hour clock, is told a rejection needs a reason, and rejects it; the ACM
sees the reason on the client page."""

from __future__ import annotations

from datetime import date, timedelta

from playwright.sync_api import Browser, Page, expect

from kamportal.models import Role
from tests.e2e.conftest import sign_in


def test_an_acm_asks_for_a_customization_and_product_rejects_it_with_a_reason_C1_C2_C3(
    db, page: Page, browser: Browser, live_server, make_portfolio, make_user
):
    world = make_portfolio().as_dict()
    product = make_user(Role.PRODUCT, name="Dina Farouk")
    client = world["client"]

    sign_in(page, live_server, world["acm"])
    page.goto(f"/clients/{client.id}?tab=growth")
    page.locator("#customizations-panel").get_by_role(
        "link", name="Ask for a customization"
    ).click()
    form = page.locator("#customization-form")
    form.get_by_label("Title").fill("Loyalty points")
    form.get_by_label("The end result, in detail").fill("Points at checkout")
    form.get_by_label("Who will use it").fill("Returning customers")
    form.get_by_label("How the client will know it is done").fill("A test order paid with points")
    form.get_by_label("Wanted by").fill((date.today() + timedelta(days=30)).isoformat())
    form.get_by_label("Attachments").set_input_files(
        {"name": "scope.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7 scope"}
    )
    form.get_by_role("button", name="Send to product").click()
    expect(page.locator("h1")).to_contain_text("SAL-")
    expect(page.locator("#attachments")).to_contain_text("scope.pdf")
    reference = page.locator("h1").inner_text().split(":")[0]

    desk = browser.new_context(base_url=live_server).new_page()
    sign_in(desk, live_server, product)
    queue = desk.locator("#waiting-requests")
    expect(queue).to_contain_text(reference)
    expect(queue).to_contain_text(" left")
    queue.get_by_role("link", name=f"{reference}: Loyalty points").click()
    decision = desk.locator("#decision-form")
    decision.get_by_label("Reject").check()
    decision.get_by_role("button", name="Decide").click()
    expect(desk.locator("#decision-form")).to_contain_text("the account manager needs the reason")
    desk.locator("#decision-form").get_by_label("Reject").check()
    desk.locator("#decision-form").get_by_label("Reason, or what you need").fill("No API.")
    desk.locator("#decision-form").get_by_role("button", name="Decide").click()
    expect(desk.locator("#decided-requests")).to_contain_text("No API.")
    desk.context.close()

    page.goto(f"/clients/{client.id}?tab=growth")
    expect(page.locator("#customizations-panel")).to_contain_text("Reason: No API.")
