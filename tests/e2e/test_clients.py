"""The clients pages in a real browser: what an ACM or a leader does all day, HTMX swaps
included (live search, contacts inline, logged contact, email through the outbox).

Each flow checks that a swap happened without a page load: the page is marked with a
property a reload would drop (`same_document`).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from kamportal.messaging.whatsapp import whatsapp_adapter
from kamportal.models import Role
from tests.e2e.conftest import sign_in

# Long enough for a swap on a loaded CI machine; the timeline polls every 3 s.
SWAP = 5_000
POLL = 10_000


@pytest.fixture
def cairo(make_portfolio, make_user):
    """A Cairo team with its mailbox: a leader and two ACMs."""
    cairo = make_portfolio(
        team={"name": "Cairo", "shared_mailbox": "cairo-kam@kam.example"},
        leader={"name": "Layla Leader", "email": "layla@kam.example"},
        acm={"name": "Ahmed ACM", "email": "ahmed@kam.example"},
        client=False,
    )
    other = make_user(Role.ACM, team=cairo.team, name="Omar ACM", email="omar@kam.example")
    return cairo.team, cairo.leader, cairo.acm, other


def mark_document(page: Page) -> None:
    """Mark the loaded document; a page load would drop the mark."""
    page.evaluate("window.e2eSameDocument = true")


def same_document(page: Page) -> bool:
    return page.evaluate("window.e2eSameDocument === true")


def labels_pointing_elsewhere(page: Page) -> list[str]:
    """Labels whose field is not in the label's own form (ids used twice on the page)."""
    return page.evaluate(
        """() => [...document.querySelectorAll("label[for]")]
            .filter((label) => !label.control
                || label.control.closest("form") !== label.closest("form"))
            .map((label) => `${label.htmlFor} (${label.textContent.trim()})`)"""
    )


def open_tab(page: Page, name: str) -> None:
    """Open a tab of the client page by its link (in place: no page load)."""
    link = page.get_by_role("navigation", name="Client page sections").get_by_role(
        "link", name=name
    )
    link.click()
    expect(link).to_have_attribute("aria-current", "page", timeout=SWAP)


def open_client(page: Page, client_id: int, tab: str | None = None) -> None:
    """The client page, on `tab` (or the client's default tab)."""
    page.goto(f"/clients/{client_id}" + (f"?tab={tab}" if tab else ""))
    # The deferred htmx has processed the page: its hx- attributes work.
    page.wait_for_load_state("load")
    mark_document(page)


# --- 1. The list: live search, filters, sort, pages ----------------------------------------


def test_live_search_filters_sorts_and_pages_and_stays_bookmarkable(
    page: Page, live_server, cairo, make_client
):
    """An ACM with 32 clients searches, filters, sorts and pages without a page load; the
    URL keeps the state; a teammate's client never shows."""
    _, _, acm, other = cairo
    for n in range(30):
        make_client(acm=acm, store_name=f"Cairo Store {n:02d}", store_code=f"CS{n:03d}")
    make_client(acm=acm, store_name="Delta Dates", store_code="DD001", status="at_risk")
    make_client(acm=acm, store_name="Delta Dairy", store_code="DD002", status="live")
    make_client(acm=other, store_name="Delta Deals", store_code="DD003")  # a teammate's
    table = page.locator("#client-table")
    rows = table.locator("tbody tr")
    count = page.locator("#client-count")

    sign_in(page, live_server, acm)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Clients").click()
    expect(page.get_by_role("heading", name="Clients")).to_be_visible()
    page.wait_for_load_state("load")
    expect(count).to_have_text("32 clients")
    expect(page.get_by_text("Page 1 of 2")).to_be_visible()
    mark_document(page)

    # Typing searches as you go (debounced), swaps the table, and pushes the URL.
    page.get_by_label("Search").press_sequentially("delta", delay=40)
    expect(count).to_have_text("2 clients matching “delta”", timeout=SWAP)
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Delta Dairy")
    expect(rows.nth(1)).to_contain_text("Delta Dates")
    expect(page).to_have_url(re.compile(r"/clients/\?(.+&)?q=delta(&|$)"))
    assert same_document(page), "the search reloaded the page"
    expect(table).not_to_contain_text("Delta Deals")

    # The URL is the state: reloading shows the same search.
    page.reload()
    expect(page.get_by_label("Search")).to_have_value("delta")
    expect(count).to_have_text("2 clients matching “delta”")
    assert not same_document(page)
    page.wait_for_load_state("load")
    mark_document(page)

    # The status filter narrows it, again without a page load.
    page.get_by_label("Status").select_option(label="At risk")
    expect(count).to_have_text("1 client matching “delta”", timeout=SWAP)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Delta Dates")
    expect(page).to_have_url(re.compile(r"[?&]status=at_risk(&|$)"))

    # Back to everything, sorted by code (twice: descending), then the next page.
    page.get_by_label("Status").select_option(label="Active (not churned)")
    page.get_by_label("Search").fill("")
    expect(count).to_have_text("32 clients", timeout=SWAP)
    table.get_by_role("link", name="Code", exact=True).click()
    expect(table.get_by_role("columnheader", name="Code ▲")).to_have_attribute(
        "aria-sort", "ascending"
    )
    expect(rows.first).to_contain_text("CS000")
    expect(page).to_have_url(re.compile(r"[?&]sort=code(&|$)"))
    table.get_by_role("link", name="Code ▲").click()
    expect(table.get_by_role("columnheader", name="Code ▼")).to_have_attribute(
        "aria-sort", "descending"
    )
    expect(rows.first).to_contain_text("DD002")
    expect(page).to_have_url(re.compile(r"[?&]direction=desc(&|$)"))

    # A search keeps the chosen sort (and starts again from page 1).
    page.get_by_label("Search").press_sequentially("cairo store 2", delay=40)
    expect(count).to_have_text("10 clients matching “cairo store 2”", timeout=SWAP)
    expect(table.get_by_role("link", name="Code ▼")).to_be_visible()
    expect(rows.first).to_contain_text("CS029")
    expect(page).to_have_url(re.compile(r"[?&]sort=code&direction=desc(&|$)"))

    page.get_by_label("Search").fill("")
    expect(count).to_have_text("32 clients", timeout=SWAP)
    expect(rows.first).to_contain_text("DD002")
    table.get_by_role("link", name="Next →").click()
    expect(table.get_by_text("Page 2 of 2")).to_be_visible(timeout=SWAP)
    expect(rows).to_have_count(12)  # 32 clients, 20 a page
    expect(rows.first).to_contain_text("CS011")
    expect(rows.last).to_contain_text("CS000")
    expect(page).to_have_url(re.compile(r"[?&]page=2(&|$)"))
    assert same_document(page), "filtering, sorting or paging reloaded the page"

    page.reload()
    expect(table.get_by_text("Page 2 of 2")).to_be_visible()
    expect(rows.first).to_contain_text("CS011")
    expect(table.get_by_role("link", name="Code ▼")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("Delta Deals")


# --- 2. Contacts: add with a field error, edit inline, cancel ------------------------------


def test_adding_and_editing_contacts_inline(
    page: Page, live_server, cairo, make_client, make_contact
):
    """Add a contact (a bad email is refused in the form), edit one inline, cancel an edit;
    the timeline follows (P6) without a reload."""
    _, _, acm, _ = cairo
    client = make_client(acm=acm, store_name="Nile Threads", country="EG")
    sara = make_contact(client, name="Sara Nabil", email="sara@nile.example", is_primary=True)
    rows = page.locator("#contact-rows > tr")
    form = page.locator("#contact-form")
    timeline = page.locator("#timeline")

    sign_in(page, live_server, acm)
    open_client(page, client.id)
    expect(rows).to_have_count(1)

    page.get_by_role("link", name="Add contact").click()
    expect(form.get_by_role("heading", name="New contact")).to_be_visible(timeout=SWAP)
    form.get_by_label("Name").fill("Omar Khaled")
    form.get_by_label("Role").fill("Marketing")
    form.get_by_label("Email").fill("omar@")
    form.get_by_label("Phone").fill("0100 111 2223")
    form.get_by_role("button", name="Add contact").click()

    # 422: the form comes back in place with the field's error; no row is added.
    expect(form.get_by_role("alert")).to_have_text("Not a valid email address.", timeout=SWAP)
    expect(form.get_by_label("Name")).to_have_value("Omar Khaled")
    expect(rows).to_have_count(1)

    form.get_by_label("Email").fill("omar@nile.example")
    form.get_by_role("button", name="Add contact").click()
    new_row = rows.filter(has_text="Omar Khaled")
    expect(new_row).to_be_visible(timeout=SWAP)
    expect(rows).to_have_count(2)
    expect(new_row).to_contain_text("Marketing")
    expect(new_row.get_by_role("link", name="+201001112223")).to_have_attribute(
        "href", "tel:+201001112223"
    )
    expect(form).to_have_count(0)
    expect(timeline).to_contain_text("Contact added — Contact added: Omar Khaled, Marketing")
    # The new contact can be called, emailed or logged at once, without a reload.
    for select in ("#call-contact", "#email-log-contact", "#whatsapp-contact"):
        expect(page.locator(select).locator("option", has_text="Omar Khaled")).to_have_count(1)
    page.get_by_text("Log a call").click()
    page.locator("#call-contact").select_option(label="Omar Khaled")
    assert same_document(page)

    # Edit inline while a new contact is half typed: the row becomes a form, each label
    # its own field's; Save puts the updated row back and leaves the other form alone.
    page.get_by_role("link", name="Add contact").click()
    form.get_by_label("Name").fill("Half typed")
    row = page.locator(f"#contact-{sara.id}")
    row.get_by_role("link", name="Edit").click()
    expect(row.get_by_role("button", name="Save contact")).to_be_visible(timeout=SWAP)
    assert labels_pointing_elsewhere(page) == []
    expect(row.get_by_label("Name")).to_have_value("Sara Nabil")
    row.get_by_label("Role").fill("Owner")
    row.get_by_role("button", name="Save contact").click()
    expect(row.get_by_role("button", name="Save contact")).to_have_count(0, timeout=SWAP)
    expect(row).to_contain_text("Owner")
    expect(row).to_contain_text("Primary")
    expect(timeline).to_contain_text("Contact updated: Sara Nabil (role)")
    expect(form.get_by_label("Name")).to_have_value("Half typed")

    # A bad edit shows its error in the row; Cancel puts the row back as it was.
    row.get_by_role("link", name="Edit").click()
    row.get_by_label("Role").fill("Intern")
    row.get_by_label("Email").fill("broken")
    row.get_by_role("button", name="Save contact").click()
    expect(row.get_by_role("alert")).to_have_text("Not a valid email address.", timeout=SWAP)
    expect(row.get_by_label("Role")).to_have_value("Intern")
    row.get_by_role("link", name="Cancel").click()
    expect(row.get_by_role("link", name="Edit")).to_be_visible(timeout=SWAP)
    expect(row).to_contain_text("Owner")
    expect(row).to_contain_text("sara@nile.example")
    expect(row).not_to_contain_text("Intern")
    assert same_document(page)

    page.reload()
    expect(page.locator(f"#contact-{sara.id}")).to_contain_text("Owner")
    expect(page.locator("#contact-rows > tr")).to_have_count(2)


# --- 3. Calls (G3) ---------------------------------------------------------------------------


def test_calling_from_a_tel_link_and_logging_the_outcome_G3(
    page: Page, live_server, cairo, make_client, make_contact
):
    """G3: calls are placed from tel: links and logged with their outcome; only an answered
    call counts as the last contact (F1)."""
    _, _, acm, _ = cairo
    client = make_client(acm=acm, store_name="Nile Threads")
    make_contact(client, name="Sara Nabil", phone="+201001234567", is_primary=True)
    call = page.locator("#call-form")
    log_a_call = page.get_by_text("Log a call")
    timeline = page.locator("#timeline")
    last_contact = page.locator("#last-contact")

    sign_in(page, live_server, acm)
    open_client(page, client.id)

    # G3: calls start from the portal's tel: links.
    expect(page.get_by_role("link", name="Call Sara Nabil")).to_have_attribute(
        "href", "tel:+201001234567"
    )
    expect(
        page.locator("#contact-rows").get_by_role("link", name="+201001234567")
    ).to_have_attribute("href", "tel:+201001234567")
    expect(last_contact).to_contain_text("Last contact: never")
    assert labels_pointing_elsewhere(page) == []

    # The form opens when asked for.
    expect(call).to_be_hidden()
    log_a_call.click()
    call.get_by_label("Contact").select_option(label="Sara Nabil")
    call.get_by_label("No answer").check()
    call.get_by_label("Notes").fill("Rang twice")
    call.get_by_role("button", name="Log call").click()
    expect(timeline).to_contain_text("Call with Sara Nabil: No answer. Rang twice", timeout=SWAP)
    expect(last_contact).to_contain_text("Last contact: never")  # F1: only answered calls count
    # Logged, the form closes; opened again, it is a fresh one for the next call.
    expect(call).to_be_hidden()
    log_a_call.click()
    expect(call.get_by_label("Notes")).to_have_value("")
    expect(call.get_by_label("No answer")).not_to_be_checked()

    call.get_by_label("Contact").select_option(label="Sara Nabil")
    call.get_by_label("Answered").check()
    call.get_by_label("Notes").fill("Wants a new banner")
    call.get_by_role("button", name="Log call").click()
    expect(timeline).to_contain_text(
        "Call with Sara Nabil: Answered. Wants a new banner", timeout=SWAP
    )
    expect(last_contact).to_contain_text("Last contact: today")
    expect(timeline.locator("li[data-kind=call]").first).to_contain_text("Answered")
    assert same_document(page)

    # Without an outcome the call is refused in place, the form left open.
    log_a_call.click()
    call.get_by_role("button", name="Log call").click()
    expect(call.get_by_role("alert")).to_have_text("Choose how the call went.", timeout=SWAP)
    expect(call).to_be_visible()
    expect(timeline.locator("li[data-kind=call]")).to_have_count(2)

    # The list shows the last contact too.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Clients").click()
    expect(page.locator("#client-table tbody tr").first).to_contain_text("today")


# --- 4. WhatsApp (G6) ------------------------------------------------------------------------


def test_a_whatsapp_request_is_answered_with_the_redirect_to_email_template_G6(
    app, page: Page, live_server, cairo, make_client, make_contact, run_jobs
):
    """G6: a request received on WhatsApp is logged and answered with the template that
    sends the client to the ACM's email."""
    _, _, acm, _ = cairo
    client = make_client(acm=acm, store_name="Nile Threads")
    make_contact(client, name="Omar Khaled", whatsapp="+201001112223", is_primary=True)
    panel = page.locator("#whatsapp-panel")
    timeline = page.locator("#timeline")

    sign_in(page, live_server, acm)
    open_client(page, client.id)

    panel.get_by_text("Log a WhatsApp request").click()
    panel.get_by_label("From").select_option(label="Omar Khaled")
    panel.get_by_label("Message received").fill("Please change my logo")
    panel.get_by_role("button", name="Log WhatsApp request").click()

    offer = page.locator(".whatsapp-request")
    expect(offer).to_contain_text("WhatsApp is not an official channel", timeout=SWAP)
    expect(offer.locator(".template-reply")).to_have_text(
        "Hello Omar, thank you for your message. WhatsApp is not an official channel for "
        "requests: please send your request to ahmed@kam.example so that we can track it for you."
    )
    expect(timeline).to_contain_text("WhatsApp from Omar Khaled: Please change my logo")

    offer.get_by_role("button", name="Send this reply on WhatsApp").click()
    expect(page.locator("#flashes")).to_contain_text(
        "WhatsApp reply to Omar Khaled queued.", timeout=SWAP
    )
    expect(offer).to_have_count(0)
    reply = timeline.locator("li[data-kind=whatsapp_sent]")
    expect(reply).to_contain_text("WhatsApp reply to Omar Khaled: please send requests by email")
    expect(reply.locator("[data-delivery]")).to_have_text("Pending")
    assert same_document(page)

    # The worker sends it; the timeline, polling, shows it sent.
    run_jobs()
    expect(reply.locator("[data-delivery]")).to_have_text("Sent", timeout=POLL)
    sent = whatsapp_adapter(app).sent
    assert [(m["to"], m["template"]) for m in sent] == [("+201001112223", "redirect_to_email")]


# --- 5. Email a contact end to end (G1) -------------------------------------------------------


def test_emailing_a_contact_is_queued_then_sent_and_the_timeline_follows_G1(
    page: Page, live_server, cairo, make_client, make_contact, run_jobs, smtp_server
):
    """G1: an email to a contact goes through the outbox and a real worker to a real SMTP
    server, copied to the ACM, the leader and the team mailbox; the open page follows."""
    _, leader, acm, _ = cairo
    client = make_client(acm=acm, store_name="Nile Threads")
    make_contact(client, name="Sara Nabil", email="sara@nile.example", is_primary=True)
    slot = page.locator("#email-slot")
    timeline = page.locator("#timeline")

    sign_in(page, live_server, acm)
    open_client(page, client.id)

    page.locator("#contact-rows").get_by_role("link", name="sara@nile.example").click()
    form = slot.locator("#email-form")
    expect(form.get_by_role("heading", name="Email Sara Nabil")).to_be_visible(timeout=SWAP)
    expect(form).to_contain_text("rule G1")

    form.get_by_role("button", name="Send email").click()
    expect(form.locator("#field-subject")).to_contain_text("This field is required.", timeout=SWAP)
    expect(form.locator("#field-body")).to_contain_text("This field is required.")

    form.get_by_label("Subject").fill("Your launch plan")
    form.get_by_label("Message").fill("Hello Sara,\nHere is the plan.")
    form.get_by_role("button", name="Send email").click()
    expect(slot).to_contain_text("Email to Sara Nabil queued.", timeout=SWAP)
    expect(page.get_by_text("Email to Sara Nabil queued")).to_have_count(1)  # said once
    event = timeline.locator("li[data-kind=email_sent]")
    expect(event).to_contain_text("Email to Sara Nabil: Your launch plan")
    expect(event.locator("[data-delivery]")).to_have_text("Pending")
    expect(page.locator("#last-contact")).to_contain_text("Last contact: today")
    assert smtp_server.messages == []

    # A real worker delivers it to a real SMTP server; the open page polls and shows it.
    run_jobs()
    expect(event.locator("[data-delivery]")).to_have_text("Sent", timeout=POLL)
    assert same_document(page)

    assert len(smtp_server.messages) == 1
    email = smtp_server.messages[0]
    assert email["Subject"] == "Your launch plan"
    assert email["To"] == "sara@nile.example"
    assert email["Reply-To"] == acm.email
    assert set(email["Cc"].split(", ")) == {acm.email, leader.email, "cairo-kam@kam.example"}
    assert "Here is the plan." in email.get_content()
    _, recipients = smtp_server.envelopes[0]
    assert set(recipients) == {
        "sara@nile.example",
        acm.email,
        leader.email,
        "cairo-kam@kam.example",
    }


# --- 6 and 7. A leader reassigns a client; sign out ------------------------------------------


def test_leader_reassigns_a_client_then_signs_out(page: Page, live_server, cairo, make_client):
    """The team leader gives a client to another ACM of the team, with a reason; the page
    and the timeline say so, and only the new ACM sees it. Signing out lands on sign-in."""
    _, leader, acm, other = cairo
    client = make_client(acm=acm, store_name="Nile Threads")

    sign_in(page, live_server, leader)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Clients").click()
    page.get_by_role("link", name="Nile Threads").click()
    expect(page.get_by_role("heading", name="Nile Threads")).to_be_visible()
    page.get_by_role("link", name="Reassign").click()
    expect(page.get_by_role("heading", name="Reassign Nile Threads")).to_be_visible()
    expect(page.get_by_text("Now managed by Ahmed ACM")).to_be_visible()

    # A reason is required.
    page.get_by_label("New account manager").select_option(label="Omar ACM · Cairo")
    page.get_by_role("button", name="Reassign").click()
    expect(page.locator("#field-reason")).to_contain_text("This field is required.")

    page.get_by_label("New account manager").select_option(label="Omar ACM · Cairo")
    page.get_by_label("Reason").fill("Ahmed is on leave; Omar takes his portfolio.")
    page.get_by_role("button", name="Reassign").click()

    expect(page).to_have_url(f"{live_server}/clients/{client.id}")
    expect(page.locator("#flashes")).to_contain_text("Nile Threads now belongs to Omar ACM.")
    profile = page.locator("dl.profile")
    expect(profile.locator("dt:has-text('Account manager') + dd")).to_have_text("Omar ACM")
    expect(page.locator("#timeline li[data-kind=client_reassigned]")).to_contain_text(
        "Reassigned from Ahmed ACM to Omar ACM"
    )

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_server}/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto(f"/clients/{client.id}")
    expect(page).to_have_url(f"{live_server}/login?next=/clients/{client.id}")

    # The previous ACM no longer sees it; the new one does.
    sign_in(page, live_server, acm)
    page.goto("/clients/")
    expect(page.locator("#client-count")).to_have_text("0 clients")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_server}/login")
    sign_in(page, live_server, other)
    page.goto("/clients/")
    expect(page.locator("#client-table")).to_contain_text("Nile Threads")


# --- 8. The client page in tabs; forms open when asked for (issue 16) -----------------------


def test_the_client_page_opens_its_tabs_in_place_and_a_note_when_asked_for(
    page: Page, live_server, cairo, make_client, make_client_report
):
    """Each tab opens in place, its address pushed (a link to share, Back returns); a log
    form opens on request, closes once saved, and the open tab's timeline follows."""
    _, _, acm, _ = cairo
    client = make_client(acm=acm, store_name="Nile Threads")
    make_client_report(client, status="sent")
    tabs = page.get_by_role("navigation", name="Client page sections")
    note = page.locator("#note-form")
    timeline = page.locator("#timeline")

    sign_in(page, live_server, acm)
    open_client(page, client.id)
    expect(tabs.get_by_role("link", name="Overview")).to_have_attribute("aria-current", "page")
    expect(page.locator("#renewal-panel")).to_have_count(0)

    tabs.get_by_role("link", name="Renewals and invoices").click()
    expect(page.locator("#renewal-panel")).to_be_visible(timeout=SWAP)
    expect(page.locator("#client-reports-panel")).to_contain_text("Sent")
    expect(page).to_have_url(f"{live_server}/clients/{client.id}?tab=renewals")
    expect(tabs.get_by_role("link", name="Renewals and invoices")).to_have_attribute(
        "aria-current", "page"
    )
    expect(tabs.get_by_role("link", name="Overview")).not_to_have_attribute("aria-current", "page")
    expect(timeline).to_have_count(0)

    tabs.get_by_role("link", name="Meetings and minutes").click()
    expect(page.locator("#meetings-panel")).to_be_visible(timeout=SWAP)
    expect(page).to_have_url(f"{live_server}/clients/{client.id}?tab=meetings")
    expect(page.locator("#renewal-panel")).to_have_count(0)
    assert same_document(page)

    page.go_back()
    expect(page).to_have_url(f"{live_server}/clients/{client.id}?tab=renewals")
    expect(page.locator("#renewal-panel")).to_be_visible(timeout=SWAP)

    # The overview again: the note form is closed until asked for; saved, it closes and
    # the timeline shows the note.
    tabs.get_by_role("link", name="Overview").click()
    expect(timeline).to_be_visible(timeout=SWAP)
    expect(note).to_be_hidden()
    page.get_by_text("Add a note").click()
    note.get_by_role("button", name="Add note").click()
    expect(note.get_by_role("alert")).to_have_text("This field is required.", timeout=SWAP)
    expect(note).to_be_visible()
    note.get_by_label("Note").fill("Asked about the SEO app")
    note.get_by_role("button", name="Add note").click()
    expect(timeline).to_contain_text("Asked about the SEO app", timeout=SWAP)
    expect(note).to_be_hidden()
    assert same_document(page)

    # The address is the state: a link to a tab opens the page on it.
    page.goto(f"/clients/{client.id}?tab=growth")
    expect(tabs.get_by_role("link", name="Growth")).to_have_attribute("aria-current", "page")
    expect(page.locator("#store-figures")).to_be_visible()
