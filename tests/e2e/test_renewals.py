"""Renewals in a real browser (R1-R3, R7), HTMX swaps included: an ACM takes a renewal
from due to invoiced (notice, confirmation, invoice) and reports the client's wire
transfer; finance confirms it in place on its queue, through the step that shows both
amounts; the ACM's panel shows it paid and the subscription on its next term. Finance
rejects a wire that never came, with the reason. The admin pages the renewals list in
place (issue 17)."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from kamportal.models import Role
from kamportal.services import payments
from tests.blueprints.test_query_counts import work_lists
from tests.e2e.conftest import sign_in
from tests.e2e.test_clients import SWAP, labels_pointing_elsewhere, mark_document, same_document
from tests.services.renewal_world import invoiced, opened, world  # noqa: F401 (a fixture)


def test_an_acm_invoices_a_renewal_and_finance_confirms_the_wire_R1_R2_R3_R7(
    db,
    page: Page,
    browser: Browser,
    live_server,
    world,  # noqa: F811
    run_jobs,
    smtp_server,
):
    renewal = opened(db)
    client = world["client"]
    panel = page.locator("#renewal-panel")

    sign_in(page, live_server, world["acm"])
    page.goto(f"/clients/{client.id}?tab=renewals")
    page.wait_for_load_state("load")
    mark_document(page)
    expect(panel.locator(f"#renewal-{renewal.id}")).to_have_attribute("data-stage", "due")

    # R2: the notice, then the confirmation (a wrong amount first).
    panel.get_by_role("link", name="Notify the client").click()
    panel.get_by_role("button", name="Send the renewal notice").click()
    expect(panel.locator(f"#renewal-{renewal.id}")).to_have_attribute(
        "data-stage", "notified", timeout=SWAP
    )
    panel.get_by_role("link", name="Record the confirmation").click()
    form = page.locator("#renewal-confirm-form")
    assert labels_pointing_elsewhere(page) == []
    form.get_by_label("Recurring amount").fill("12500.555")
    form.get_by_role("button", name="Record the confirmation").click()
    expect(form.get_by_text("EGP amounts have at most 2 decimals.")).to_be_visible(timeout=SWAP)
    form.get_by_label("Recurring amount").fill("12500")
    form.get_by_role("button", name="Record the confirmation").click()
    expect(panel.locator(f"#renewal-{renewal.id}")).to_have_attribute(
        "data-stage", "confirmed", timeout=SWAP
    )

    # R3 and R8: the invoice, with a customization fee on it.
    panel.get_by_role("link", name="Create the invoice").click()
    form = page.locator("#renewal-invoice-form")
    form.get_by_label("Customization fee", exact=True).fill("Custom checkout page")
    form.get_by_label("Its amount").first.fill("3000")
    form.get_by_role("button", name="Create the invoice").click()
    invoice_row = panel.locator("table.invoices tbody tr").first
    expect(invoice_row).to_contain_text("EGP15,500.00", timeout=SWAP)
    expect(invoice_row).to_have_attribute("data-status", "unpaid")

    # R7: the client says it sent a wire transfer.
    invoice_row.get_by_role("link", name="Wire sent").click()
    form = page.locator("form[id^=renewal-wire-]")
    form.get_by_label("Bank reference").fill("CIB 778812")
    form.get_by_role("button", name="Report the wire transfer").click()
    expect(invoice_row).to_contain_text("Waiting for finance", timeout=SWAP)
    assert same_document(page), "the renewal's steps reloaded the page"
    run_jobs()
    subjects = [m["Subject"] for m in smtp_server.messages]
    assert subjects[0] == f"Your subscription renewal on {renewal.due_on:%d %B %Y} – NILE01"
    assert subjects[1].startswith("Invoice INV-") and subjects[1].endswith("– NILE01")
    # The client is told a wire can take up to 4 days to confirm.
    assert subjects[2].startswith("Your wire transfer for invoice INV-")

    # Finance confirms it in place, in a browser of its own: a step that shows what was
    # reported beside what the invoice owes, then the amount and day received.
    finance = browser.new_context(base_url=live_server).new_page()
    sign_in(finance, live_server, world["finance"])
    finance.get_by_role("navigation", name="Main").get_by_role("link", name="Finance").click()
    finance.wait_for_load_state("load")
    mark_document(finance)
    wire = finance.locator("#wires tbody tr").first
    expect(wire).to_contain_text("Nile Crafts")
    wire.get_by_role("link", name="Confirm or reject…").click()
    expect(wire).to_contain_text(
        "Reported EGP15,500.00; the invoice owes EGP15,500.00", timeout=SWAP
    )
    expect(wire.get_by_label("Amount received")).to_have_value("15500.00")
    wire.get_by_label("Amount received").fill("15,500")
    wire.get_by_role("button", name="Confirm received").click()
    expect(wire).to_have_attribute("data-status", "confirmed", timeout=SWAP)
    assert same_document(finance)
    finance.context.close()

    # The ACM sees it paid, and the subscription on its next term.
    page.reload()
    expect(invoice_row).to_have_attribute("data-status", "paid")
    expect(panel).to_contain_text("No renewal under way")
    next_term = renewal.due_on.replace(year=renewal.due_on.year + 1)
    expect(page.locator("#subscription")).to_contain_text(next_term.strftime("%d %b %Y"))


def test_finance_rejects_a_wire_that_never_came_with_the_reason_R7(
    db,
    page: Page,
    live_server,
    world,  # noqa: F811
):
    _, invoice = invoiced(world, db)
    payments.report_wire_transfer(invoice, actor=world["acm"], amount="12000", reference="X1")
    db.session.commit()

    sign_in(page, live_server, world["finance"])
    page.goto("/finance/")
    page.wait_for_load_state("load")
    mark_document(page)
    wire = page.locator("#wires tbody tr").first
    expect(wire).to_contain_text("Owes EGP12,000.00")
    # The row holds a link to its forms, opened in place (issue 17).
    wire.get_by_role("link", name="Confirm or reject…").click()
    wire.get_by_text("Not arrived? Reject the report").click(timeout=SWAP)
    wire.get_by_role("button", name="Reject the report").click()
    expect(wire.get_by_text("Say what finance found, or did not.")).to_be_visible(timeout=SWAP)
    wire.get_by_label("Why").fill("Nothing from CIB for this client this week.")
    wire.get_by_role("button", name="Reject the report").click()
    expect(wire).to_have_attribute("data-status", "rejected", timeout=SWAP)
    expect(wire).to_contain_text("Nothing from CIB for this client this week.")
    assert same_document(page)


def test_the_admin_pages_the_renewals_list_in_place(
    db, page: Page, live_server, make_team, make_user
):
    """Issue 17: the renewals list comes 20 a page; Next swaps it in place (no reload),
    the unpaid invoices stay on their page, the address keeps both for a reload."""
    work_lists(db, make_team, make_user, teams=1, clients=30)
    admin = make_user(Role.ADMIN)
    renewals_list = page.locator("#open-renewals")
    invoices_list = page.locator("#unpaid-invoices")

    sign_in(page, live_server, admin)
    page.goto("/renewals/?invoices_page=2")
    page.wait_for_load_state("load")
    mark_document(page)
    expect(renewals_list.get_by_text("Page 1 of 2")).to_be_visible()
    expect(renewals_list.locator("tbody tr")).to_have_count(20)
    expect(invoices_list.get_by_text("Page 2 of 2")).to_be_visible()
    expect(invoices_list.locator("tbody tr")).to_have_count(10)

    renewals_list.get_by_role("link", name="Next →").click()
    expect(renewals_list.get_by_text("Page 2 of 2")).to_be_visible(timeout=SWAP)
    expect(renewals_list.locator("tbody tr")).to_have_count(10)
    expect(invoices_list.get_by_text("Page 2 of 2")).to_be_visible()
    expect(page).to_have_url(re.compile(r"\?invoices_page=2&page=2$"))
    assert same_document(page), "paging reloaded the page"

    page.reload()
    expect(renewals_list.get_by_text("Page 2 of 2")).to_be_visible()
    expect(invoices_list.get_by_text("Page 2 of 2")).to_be_visible()
