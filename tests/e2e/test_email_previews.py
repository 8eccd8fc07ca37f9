"""An email to a client previewed in a real browser before it goes (issue 16): the preview
swaps in beside the form, as the client will read it, and the email is then sent."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in
from tests.e2e.test_clients import SWAP, mark_document, same_document
from tests.services.renewal_world import confirmed, world  # noqa: F401 (a fixture)


def test_an_acm_previews_an_email_to_a_contact_in_place_then_sends_it(
    page: Page, live_server, make_portfolio, make_contact, db
):
    cairo = make_portfolio(
        team={"name": "Cairo", "shared_mailbox": "cairo-kam@kam.example"},
        leader={"name": "Layla Leader", "email": "layla@kam.example"},
        acm={"name": "Ahmed ACM", "email": "ahmed@kam.example"},
        client={"store_name": "Nile Threads", "language": "ar"},
    )
    make_contact(cairo.client, name="Sara Nabil", email="sara@nile.example", is_primary=True)
    sign_in(page, live_server, cairo.acm)
    page.goto(f"/clients/{cairo.client.id}")
    page.wait_for_load_state("load")
    mark_document(page)

    page.locator("#contact-rows").get_by_role("link", name="sara@nile.example").click()
    form = page.locator("#email-form")
    expect(form.get_by_role("heading", name="Email Sara Nabil")).to_be_visible(timeout=SWAP)
    form.get_by_label("Subject").fill("خطة الإطلاق")
    form.get_by_label("Message").fill("مرحبا سارة،\nهذه هي الخطة.")
    form.get_by_role("button", name="Preview").click()

    preview = form.locator("#email-form-preview .email-preview")
    expect(preview).to_be_visible(timeout=SWAP)
    expect(preview.locator("[data-field=to]")).to_have_text("sara@nile.example")
    expect(preview.locator("[data-field=cc]")).to_have_text(
        "ahmed@kam.example, layla@kam.example, cairo-kam@kam.example"
    )
    expect(preview.locator("[data-field=subject]")).to_have_text("خطة الإطلاق")
    body = preview.locator("[data-field=body]")
    expect(body).to_have_attribute("dir", "rtl")
    expect(body).to_contain_text("هذه هي الخطة.")
    assert same_document(page)  # swapped in place, no page load
    expect(page.locator("#timeline li[data-kind=email_sent]")).to_have_count(0)

    form.get_by_role("button", name="Send email").click()
    expect(page.locator("#email-slot")).to_contain_text("Email to Sara Nabil queued.", timeout=SWAP)
    expect(page.locator("#timeline li[data-kind=email_sent]")).to_contain_text("خطة الإطلاق")
    assert same_document(page)


def test_an_acm_previews_the_invoice_email_in_place_then_creates_the_invoice_R3(
    page: Page,
    live_server,
    db,
    world,  # noqa: F811
):
    confirmed(world, db)
    panel = page.locator("#renewal-panel")
    sign_in(page, live_server, world["acm"])
    page.goto(f"/clients/{world['client'].id}?tab=renewals")
    page.wait_for_load_state("load")
    mark_document(page)

    panel.get_by_role("link", name="Create the invoice").click()
    form = page.locator("#renewal-invoice-form")
    form.get_by_label("Customization fee", exact=True).fill("Custom checkout page")
    form.get_by_label("Its amount").first.fill("3000")
    form.get_by_role("button", name="Preview the email").click()

    preview = form.locator("#renewal-invoice-preview .email-preview")
    expect(preview).to_be_visible(timeout=SWAP)
    expect(preview.locator("[data-field=to]")).to_have_text("karim@nile.example")
    expect(preview.locator("[data-field=subject]")).to_contain_text("– NILE01")
    expect(preview.locator("[data-field=body]")).to_contain_text("Custom checkout page")
    expect(preview.locator("[data-field=body]")).to_contain_text("Total: EGP15,000.00")
    expect(preview.locator("[data-field=note]")).to_contain_text("The invoice number is given")
    assert same_document(page)  # swapped in place, no page load
    expect(panel.locator("table.invoices tbody tr")).to_have_count(0)  # nothing issued

    form.get_by_role("button", name="Create the invoice").click()
    invoice_row = panel.locator("table.invoices tbody tr").first
    expect(invoice_row).to_contain_text("EGP15,000.00", timeout=SWAP)
    assert same_document(page)
