"""An email to a client previewed in a real browser before it goes (issue 16): the preview
swaps in beside the form, as the client will read it, and the email is then sent."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in
from tests.e2e.test_clients import SWAP, mark_document, same_document


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
