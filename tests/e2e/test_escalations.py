"""Escalations in a real browser (E1, E2, E3), HTMX swaps included: an ACM raises one from
the client page, logs an unanswered call and watches the email step appear and its email
go out; the team leader finds it first in the queue and reassigns the client; a complaint
is recorded and closed in the complaint queue.

The portal clock is frozen on a Thursday afternoon in Cairo (the Sun-Thu team of the
service tests), shared by the server's threads.
"""

from __future__ import annotations

from playwright.sync_api import Page, expect

from kamportal.services import escalations
from tests.e2e.conftest import sign_in
from tests.e2e.test_clients import (
    SWAP,
    labels_pointing_elsewhere,
    mark_document,
    open_tab,
    same_document,
)
from tests.services.test_escalations import raise_one, setup  # noqa: F401 (a fixture)

POLL = 10_000


def open_page(page: Page, path: str) -> None:
    page.goto(path)
    page.wait_for_load_state("load")
    mark_document(page)


def test_an_acm_raises_an_escalation_logs_an_unanswered_call_and_the_email_goes_E1_E2(
    db,
    page: Page,
    live_server,
    setup,  # noqa: F811
    run_jobs,
    smtp_server,
):
    client, acm = setup["client"], setup["acm"]
    client.store_name = "Nile Crafts"
    db.session.commit()
    panel = page.locator("#escalation-panel")

    sign_in(page, live_server, acm)
    open_page(page, f"/clients/{client.id}?tab=escalations")
    expect(panel).to_contain_text("No escalation and no complaint open.")

    # E1: the form opens in the panel; sent empty, it comes back with its errors.
    panel.get_by_role("link", name="Raise an escalation").click()
    form = page.locator("#escalation-form")
    expect(form).to_be_visible(timeout=SWAP)
    form.get_by_role("button", name="Raise the escalation").click()
    expect(form.get_by_text("Choose what the client asked.")).to_be_visible(timeout=SWAP)
    expect(form.get_by_text("Write what the client said.")).to_be_visible()
    assert labels_pointing_elsewhere(page) == []

    form.get_by_label("Refuses to deal with the ACM").check()
    form.get_by_label("Through").select_option(label="WhatsApp")
    form.get_by_label("What the client said").fill("I will not deal with Mona any more.")
    form.get_by_role("button", name="Raise the escalation").click()
    expect(panel).to_contain_text("Refuses to deal with the ACM (WhatsApp)", timeout=SWAP)
    expect(panel).to_contain_text("The ACM calls the client now")
    expect(page.locator("#day-escalations")).to_have_count(0)  # the client page, not the day
    open_tab(page, "Overview")
    expect(page.locator("#timeline")).to_contain_text("Escalation #", timeout=SWAP)
    assert same_document(page), "raising reloaded the page"
    open_tab(page, "Escalations")

    # E2 step 1: the call, from the escalation page.
    panel.get_by_role("link", name="Open the escalation").click()
    expect(page.get_by_role("heading", name="Escalation #")).to_be_visible()
    page.wait_for_load_state("load")
    mark_document(page)
    ladder = page.locator("#ladder")
    expect(ladder.locator('[data-step="call"]')).to_have_attribute("data-state", "current")
    call = page.locator("#escalation-call-form")
    expect(call.get_by_role("link", name="Call Karim Said")).to_have_attribute(
        "href", "tel:" + setup["contact"].phone
    )
    assert labels_pointing_elsewhere(page) == []
    call.get_by_label("No answer").check()
    call.get_by_label("Notes").fill("Rang twice, no answer.")
    call.get_by_role("button", name="Log the call").click()

    # The email step appears with its proof, pending, and the WhatsApp step's time left.
    email_step = ladder.locator('[data-step="email"]')
    expect(email_step).to_have_attribute("data-state", "current", timeout=SWAP)
    expect(email_step.locator("[data-delivery]")).to_have_text("Pending")
    expect(email_step).to_contain_text("karim@store.example")
    expect(ladder.locator("#escalation-next")).to_contain_text(
        "WhatsApp: please reply to our email in 4 h"
    )
    expect(ladder.locator('[data-step="call"]')).to_contain_text("Rang twice, no answer.")
    expect(page.locator("#escalation-call-form")).to_contain_text("Call again")
    assert same_document(page)

    # The worker sends it; the ladder follows on its own.
    run_jobs()
    expect(email_step.locator("[data-delivery]")).to_have_text("Sent", timeout=POLL)
    [email] = smtp_server.messages
    assert email["To"] == "karim@store.example"
    assert "leader@kam.example" in email["Cc"]  # G1
    assert email["Subject"] == f"We tried to call you – {client.store_code}"


def test_the_leader_finds_it_first_in_the_queue_and_reassigns_the_client_E3(
    db,
    page: Page,
    live_server,
    setup,  # noqa: F811
    make_client,
):
    escalation = raise_one(setup, db)
    escalations.advance_to_leader(
        escalation, actor=setup["acm"], note="He refuses to talk to me at all."
    )
    quiet = make_client(acm=setup["other_acm"], store_name="Delta Dates")
    escalations.raise_escalation(
        quiet, actor=setup["other_acm"], trigger="asked_for_manager", said="x", channel="call"
    )
    db.session.commit()
    store = setup["client"].store_name

    sign_in(page, live_server, setup["leader"])
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Escalations").click()
    rows = page.locator("#escalation-queue tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text(store)
    expect(rows.first).to_contain_text("Waiting for the leader's decision")
    expect(rows.nth(1)).to_contain_text("Delta Dates")

    rows.first.get_by_role("link", name=store).click()
    page.wait_for_load_state("load")
    mark_document(page)
    expect(page.locator("#escalation-status-badge")).to_have_text("Open")
    decision = page.locator("#escalation-decision-form")
    expect(page.locator('#ladder [data-step="leader"]')).to_contain_text(
        "He refuses to talk to me at all."
    )
    # Without a note nothing is decided.
    decision.get_by_label("Reassign the client to another ACM of the team").check()
    decision.get_by_label("New account manager").select_option(label="Omar Farid")
    decision.get_by_role("button", name="Decide").click()
    expect(decision.get_by_text("Write the note to the client.")).to_be_visible(timeout=SWAP)

    decision.get_by_label("Note to the client").fill("Omar looks after your store from today.")
    decision.get_by_role("button", name="Decide").click()
    actions = page.locator("#escalation-actions")
    expect(actions).to_contain_text("Reassigned to another ACM", timeout=SWAP)
    expect(actions).to_contain_text("Omar looks after your store from today.")
    # The header's badge and the account manager change without a reload (E3).
    expect(page.locator("#escalation-status-badge")).to_have_text("Reassigned to another ACM")
    expect(page.locator("#escalation-facts")).to_contain_text("Omar Farid")
    expect(page.locator('#ladder [data-step="leader"]')).to_have_attribute(
        "data-state", "done", timeout=SWAP
    )
    assert same_document(page)

    page.get_by_role("link", name=f"← {store}").click()
    expect(page.locator("dl.profile")).to_contain_text("Omar Farid")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Escalations").click()
    expect(page.locator("#escalation-queue tbody tr")).to_have_count(1)


def test_a_complaint_goes_to_the_complaint_queue_and_is_closed_there_E3(
    db,
    page: Page,
    live_server,
    setup,  # noqa: F811
    make_user,
):
    client = setup["client"]
    sign_in(page, live_server, setup["acm"])
    open_page(page, f"/clients/{client.id}?tab=escalations")
    panel = page.locator("#escalation-panel")
    panel.get_by_role("link", name="Record a complaint").click()
    form = page.locator("#complaint-form")
    form.get_by_label("Cancellation").check()
    form.get_by_label("Through").select_option(label="Email")
    form.get_by_label("What the client said").fill("Please cancel at the end of the term.")
    form.get_by_role("button", name="Record it").click()
    expect(panel).to_contain_text("Please cancel at the end of the term.", timeout=SWAP)
    expect(panel).to_contain_text("Cancellation")
    assert same_document(page)

    panel.get_by_role("link", name="The complaint queue").click()
    row = page.locator("#complaint-queue tbody tr").first
    expect(row).to_contain_text("Please cancel at the end of the term.")
    page.wait_for_load_state("load")
    mark_document(page)
    # The row's form opens on demand (issue 17: a page's rows stay light).
    row.get_by_role("link", name="Update").click()
    row.get_by_label("Status").select_option(label="Closed")
    row.get_by_role("button", name="Save").click()
    expect(row.get_by_text("Say how it was closed.")).to_be_visible(timeout=SWAP)
    row.get_by_label("Note").fill("Kept them: a discount on renewal.")
    row.get_by_role("button", name="Save").click()
    expect(row).to_have_attribute("data-status", "closed", timeout=SWAP)
    expect(row).to_contain_text("Kept them: a discount on renewal.")
    assert same_document(page)
