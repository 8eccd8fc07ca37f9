"""Onboarding and store launch in a real browser (O1, O2, L1-L5), HTMX swaps included: an
ACM registers an Enterprise client and sends its welcome email; the client answers the
KYC questionnaire through the emailed link, without a login; the ACM ticks the launch
checklists until the store goes live, and a leader overrides an incomplete UAT; a
delivery past the contract's limits is refused; an item's note and evidence are edited in
place.

Each swap is checked to have happened without a page load (`same_document`).
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from kamportal.services import onboarding
from kamportal.services.kyc_questions import CHOICE, QUESTIONS, Question
from kamportal.services.launch_checklists import (
    LMS,
    PRE_LAUNCH,
    TEST_PAYMENTS_DISABLED,
    UAT,
    definition_of,
)
from tests.conftest import registered_client
from tests.e2e.conftest import sign_in
from tests.e2e.test_clients import (
    POLL,
    SWAP,
    labels_pointing_elsewhere,
    mark_document,
    open_client,
    open_tab,
    same_document,
)

BOOKING_LINK = "https://meetings.example.com/omar"


@pytest.fixture
def cairo(make_portfolio):
    """A Cairo team with its mailbox: a leader and an ACM with a booking link (O2)."""
    cairo = make_portfolio(
        team={"name": "Cairo", "shared_mailbox": "cairo-kam@kam.example"},
        leader={"name": "Layla Leader", "email": "layla@kam.example"},
        acm={"name": "Omar Acm", "email": "omar@kam.example", "booking_link": BOOKING_LINK},
        client=False,
    )
    return cairo.team, cairo.leader, cairo.acm


@pytest.fixture
def register(db, make_contact):
    """`register(acm, code, name)`: an Enterprise client registered through the service, as
    the form does (its welcome email owed, its checklists given), with a contact."""

    def make(acm, code: str, name: str, *, contact: str | None = "Sara Nabil"):
        client = registered_client(actor=acm, store_code=code, store_name=name)
        if contact:
            email = f"{contact.split()[0].lower()}@{code.lower()}.example"
            make_contact(client, name=contact, email=email, is_primary=True)
        return client

    return make


def second_browser(browser: Browser, live_server: str, browser_errors) -> BrowserContext:
    """Another person's browser (cookies of its own), its pages watched for errors too."""
    context = browser.new_context(base_url=live_server)
    context.on("page", browser_errors.watch)
    return context


# --- 1. A new Enterprise client and its welcome email (O2) -----------------------------------


def test_an_acm_registers_an_enterprise_client_and_sends_the_welcome_email_O2(
    page: Page, live_server, cairo, run_jobs, smtp_server
):
    """O2: registering a client on the Enterprise plan opens its welcome email, due in 48
    business hours, and its launch checklists; the ACM reviews the composed email (the
    rule's subject, the booking link) and sends it in place; a real worker delivers it."""
    _, leader, acm = cairo
    panel = page.locator("#onboarding-panel")
    welcome = page.locator("#welcome-status")
    slot = page.locator("#onboarding-form-slot")

    sign_in(page, live_server, acm)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Clients").click()
    page.get_by_role("link", name="New client").click()
    expect(page.get_by_role("heading", name="New client")).to_be_visible()
    assert labels_pointing_elsewhere(page) == []
    page.get_by_label("Store name").fill("Nile Crafts")
    page.get_by_label("Store code").fill("nile01")
    page.get_by_label("Plan", exact=True).select_option(label="Enterprise")
    page.get_by_label("Lifecycle").select_option(label="Onboarding")
    # An ACM gives clients to themselves only: already chosen.
    expect(page.get_by_label("Account manager")).to_have_value(str(acm.id))
    page.get_by_label("Country").select_option("EG")
    page.get_by_label("Time zone").select_option("Africa/Cairo")
    page.get_by_label("Language").select_option(label="Arabic")
    page.get_by_label("Industry").fill("Handmade crafts")
    today = datetime.now(ZoneInfo("Africa/Cairo")).date()
    page.get_by_label("Subscribed on").fill(today.isoformat())
    page.get_by_label("Recurring amount").fill("12000")
    page.get_by_label("Currency").select_option("EGP")
    page.get_by_role("button", name="Register client").click()

    # The client page, its onboarding first: the welcome email due, business hours left.
    expect(page).to_have_url(re.compile(rf"^{re.escape(live_server)}/clients/\d+$"))
    expect(page.locator("#flashes")).to_contain_text("Nile Crafts is registered.")
    expect(page.get_by_role("heading", name="Nile Crafts")).to_be_visible()
    page.wait_for_load_state("load")
    mark_document(page)
    expect(welcome).to_have_attribute("data-welcome", "due")
    expect(welcome).to_contain_text("Welcome email due")
    expect(welcome).to_contain_text(re.compile(r"\b\d+ business hours? left\b"))
    # Its launch checklists are there, nothing done yet.
    expect(page.locator("#summary-lms")).to_have_attribute("data-total", str(len(LMS.items)))
    expect(page.locator("#summary-uat")).to_have_attribute("data-total", str(len(UAT.items)))
    expect(page.locator("#summary-uat")).to_have_attribute("data-done", "0")

    # Reviewed before any contact has an email: composed, but refused on Send.
    welcome.get_by_role("link", name="Review and send").click()
    form = slot.locator("#welcome-form")
    expect(form.get_by_role("heading", name="Welcome email")).to_be_visible(timeout=SWAP)
    expect(form.locator("#welcome-to")).to_have_text("No contact with an email address yet")
    form.get_by_role("button", name="Send the welcome email").click()
    expect(form.get_by_role("alert")).to_have_text(
        "Add the client's contact with an email address first.", timeout=SWAP
    )
    expect(welcome).to_have_attribute("data-welcome", "due")

    # The contact is added inline on the overview; back on the onboarding tab, the panel
    # knows it.
    open_tab(page, "Overview")
    page.get_by_role("link", name="Add contact").click()
    contact_form = page.locator("#contact-form")
    expect(contact_form.get_by_role("heading", name="New contact")).to_be_visible(timeout=SWAP)
    contact_form.get_by_label("Name").fill("Sara Nabil")
    contact_form.get_by_label("Role").fill("Owner")
    contact_form.get_by_label("Email").fill("sara@nile.example")
    contact_form.get_by_role("button", name="Add contact").click()
    expect(page.locator("#contact-rows > tr").filter(has_text="Sara Nabil")).to_be_visible(
        timeout=SWAP
    )
    open_tab(page, "Onboarding")

    # Reviewed again: to the contact, the ACM and the leader in CC, the rule's subject,
    # every item of the rule in the body with the ACM's booking link.
    welcome.get_by_role("link", name="Review and send").click()
    expect(form.locator("#welcome-to")).to_have_text("sara@nile.example", timeout=SWAP)
    expect(form.locator("#welcome-cc")).to_contain_text("omar@kam.example")
    expect(form.locator("#welcome-cc")).to_contain_text("layla@kam.example")
    # The client's language is Arabic: so are the subject and the body (O2).
    expect(form.locator("#welcome-subject")).to_have_text("مرحبًا بكم في ExpandCart – NILE01")
    body = form.get_by_label("Message")
    expect(body).to_have_value(re.compile(re.escape(BOOKING_LINK)))
    expect(body).to_have_value(re.compile(r"^مرحبًا Sara،"))
    expect(body).to_have_value(re.compile("Omar Acm"))
    expect(body).to_have_value(re.compile("ساعات العمل"))
    expect(body).to_have_value(re.compile("ربط النطاق أو تسجيله وتفعيل شهادة SSL"))
    assert labels_pointing_elsewhere(page) == []

    form.get_by_role("button", name="Send the welcome email").click()
    # The panel comes back in place: sent, the form gone, the flash said once.
    expect(welcome).to_have_attribute("data-welcome", "sent", timeout=SWAP)
    expect(welcome).to_contain_text("Welcome email sent")
    expect(welcome.get_by_role("link", name="Review and send")).to_have_count(0)
    expect(panel.locator("#welcome-form")).to_have_count(0)
    expect(page.get_by_text("Welcome email queued")).to_have_count(1)
    open_tab(page, "Overview")
    event = page.locator("#timeline li[data-kind=welcome_email_sent]")
    expect(event).to_contain_text("Welcome email to Sara Nabil (sara@nile.example)")
    expect(event.locator("[data-delivery]")).to_have_text("Pending")
    assert same_document(page), "sending the welcome email reloaded the page"
    assert smtp_server.messages == []

    # A real worker delivers it to a real SMTP server; the open page follows.
    run_jobs()
    expect(event.locator("[data-delivery]")).to_have_text("Sent", timeout=POLL)
    assert same_document(page)
    assert len(smtp_server.messages) == 1
    email = smtp_server.messages[0]
    assert email["Subject"] == "مرحبًا بكم في ExpandCart – NILE01"
    assert email["To"] == "sara@nile.example"
    assert {acm.email, leader.email} <= set(email["Cc"].split(", "))
    content = email.get_content()
    assert BOOKING_LINK in content
    assert "Omar Acm" in content

    # It goes once: the page reloaded says sent, with nothing left to send.
    page.reload()
    open_tab(page, "Onboarding")
    expect(welcome).to_have_attribute("data-welcome", "sent")
    expect(welcome.get_by_role("link", name="Review and send")).to_have_count(0)


# --- 2. The KYC questionnaire through the emailed link (O1) -----------------------------------


def answer(page: Page, question: Question, value: str) -> None:
    """Answer one question as the client does: type it, or pick the choice."""
    if question.kind == CHOICE:
        page.get_by_role("group", name=question.text).get_by_label(value, exact=True).check()
    else:
        page.get_by_label(question.text).fill(value)


def an_answer(question: Question) -> str:
    return question.choices[0] if question.kind == CHOICE else f"About {question.key}"


def test_the_client_answers_the_kyc_questionnaire_through_the_emailed_link_O1(
    app,
    page: Page,
    browser: Browser,
    browser_errors,
    live_server,
    cairo,
    register,
    run_jobs,
    smtp_server,
):
    """O1: the ACM emails the link; the client, not signed in, saves answers and comes
    back, is refused a submission with an answer missing, submits, and the link closes;
    the ACM sees the answers."""
    _, _, acm = cairo
    client = register(acm, "NILE02", "Nile Threads")
    app.config["PUBLIC_URL"] = live_server
    status = page.locator("#kyc-status")

    sign_in(page, live_server, acm)
    open_client(page, client.id)
    expect(status).to_have_attribute("data-kyc-status", "not_sent")
    expect(status).to_contain_text("The link goes to Sara Nabil (sara@nile02.example)")
    status.get_by_role("button", name="Email the link to the client").click()
    expect(status).to_have_attribute("data-kyc-status", "sent", timeout=SWAP)
    expect(status).to_contain_text("to sara@nile02.example")
    expect(status.get_by_role("button", name="Send a new link")).to_be_visible()
    open_tab(page, "Overview")
    expect(page.locator("#timeline li[data-kind=kyc_link_sent]")).to_contain_text(
        "KYC questionnaire link sent to Sara Nabil (sara@nile02.example)"
    )
    assert same_document(page), "sending the link reloaded the page"
    open_tab(page, "Onboarding")

    run_jobs()
    [email] = smtp_server.messages
    assert email["Subject"] == "A few questions about Nile Threads – NILE02"
    assert email["To"] == "sara@nile02.example"
    match = re.search(r"http://\S+/kyc/[\w.-]+", email.get_content())
    assert match, email.get_content()
    link = match.group(0)
    assert link.startswith(f"{live_server}/kyc/")

    # The client, in a browser of its own and without a login, opens the link.
    visitor = second_browser(browser, live_server, browser_errors)
    kyc = visitor.new_page()
    posts: list[str] = []  # what the client's page sent
    kyc.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    kyc.goto(link)
    expect(kyc.get_by_role("heading", name="A few questions about Nile Threads")).to_be_visible()
    expect(kyc.locator(".whoami")).to_have_count(0)
    kyc.wait_for_load_state("load")
    mark_document(kyc)
    assert labels_pointing_elsewhere(kyc) == []

    # Some answers, saved: the form comes back in place with them and "Saved".
    location, communication = QUESTIONS["location"], QUESTIONS["communication"]
    customers = QUESTIONS["target_customers"]
    answer(kyc, location, "Alexandria, Egypt")
    answer(kyc, communication, "Zoom meetings")
    answer(kyc, customers, "Young families who buy gifts")
    kyc.get_by_role("button", name="Save and continue later").click()
    expect(kyc.locator("#kyc-saved")).to_contain_text("Saved.", timeout=SWAP)
    expect(kyc.get_by_label(location.text)).to_have_value("Alexandria, Egypt")
    assert same_document(kyc), "saving reloaded the page"

    # Coming back with the same link: the answers were kept.
    kyc.reload()
    expect(kyc.get_by_label(location.text)).to_have_value("Alexandria, Egypt")
    expect(kyc.get_by_label(customers.text)).to_have_value("Young families who buy gifts")
    group = kyc.get_by_role("group", name=communication.text)
    expect(group.get_by_label("Zoom meetings", exact=True)).to_be_checked()
    expect(group.get_by_label("Email", exact=True)).not_to_be_checked()
    expect(kyc.locator("#kyc-saved")).to_have_count(0)
    kyc.wait_for_load_state("load")
    mark_document(kyc)

    # Everything answered but the main products: the browser points at the question...
    missing = QUESTIONS["main_products"]
    given = {location.key, communication.key, customers.key, missing.key}
    for question in QUESTIONS.values():
        if question.key not in given and not question.optional:
            answer(kyc, question, an_answer(question))
    kyc.get_by_role("button", name="Submit").click()
    products = kyc.get_by_label(missing.text)
    assert products.evaluate("el => el.validity.valueMissing")
    expect(products).to_be_focused()
    expect(kyc.locator("#kyc-problems")).to_have_count(0)

    # ...and without the browser's check, the portal refuses it, nothing saved.
    products.evaluate("el => el.removeAttribute('required')")
    kyc.get_by_role("button", name="Submit").click()
    problems = kyc.locator("#kyc-problems")
    expect(problems).to_contain_text(
        "Please see to the questions marked below; nothing was saved:", timeout=SWAP
    )
    expect(problems.get_by_role("link", name=missing.text)).to_have_attribute(
        "href", "#field-main_products"
    )
    expect(kyc.locator("#field-main_products").get_by_role("alert")).to_have_text(
        "Please answer this question."
    )
    # What was typed is still there to correct.
    expect(kyc.get_by_label(QUESTIONS["industry"].text)).to_have_value("About industry")
    expect(kyc.get_by_label(location.text)).to_have_value("Alexandria, Egypt")
    # The save and this refused submission went out; the one the browser stopped did not.
    assert posts == [link, link]
    assert same_document(kyc)

    # Answered: the thank-you replaces the page.
    answer(kyc, missing, "Hand-woven rugs and cushions")
    kyc.get_by_role("button", name="Submit").click()
    expect(kyc.get_by_role("heading", name="Thank you")).to_be_visible(timeout=SWAP)
    expect(kyc.locator("#kyc-page")).to_have_attribute("data-kyc", "submitted")
    expect(kyc.locator("#kyc-form")).to_have_count(0)
    assert same_document(kyc), "submitting reloaded the page"

    # The link is used: it opens nothing any more.
    kyc.goto(link)
    expect(kyc.get_by_role("heading", name="Already submitted")).to_be_visible()
    expect(kyc.locator("#kyc-page")).to_contain_text(
        "Thank you: this questionnaire has been submitted already."
    )
    expect(kyc.locator("#kyc-form")).to_have_count(0)
    visitor.close()

    # The ACM opens the questionnaire from the client page: submitted, with the answers.
    page.reload()
    expect(status).to_have_attribute("data-kyc-status", "submitted")
    page.get_by_role("link", name="Open KYC").click()
    expect(page.get_by_role("heading", name="KYC questionnaire")).to_be_visible()
    expect(page.locator("#kyc-status")).to_have_attribute("data-kyc-status", "submitted")
    expect(page.locator("#kyc-status")).to_contain_text("by the client")
    read = page.locator("#kyc-read")
    expect(read.locator("dd[data-answer=location]")).to_have_text("Alexandria, Egypt")
    expect(read.locator("dd[data-answer=communication]")).to_have_text("Zoom meetings")
    expect(read.locator("dd[data-answer=main_products]")).to_have_text(
        "Hand-woven rugs and cushions"
    )
    expect(read.locator("dd[data-answer=solves_problem]")).to_have_text("Yes")
    expect(read.locator("dd[data-answer=special_requirements]")).to_have_text("—")
    expect(page.locator("#kyc-send-link")).to_have_count(0)


# --- 3. The launch checklists, the launch and a leader's override (L1, L5) --------------------


def tick(page: Page, checklist: str, item_key: str) -> None:
    """Tick an item's box; it is saved in place (the row comes back ticked)."""
    row = page.locator(f"#item-{checklist}-{item_key}")
    row.get_by_role("checkbox").click()
    expect(row).to_have_attribute("data-done", "true", timeout=SWAP)
    expect(row.get_by_role("checkbox")).to_be_checked()


def test_the_acm_ticks_the_checklists_until_the_store_is_live_and_a_leader_overrides_L1_L5(
    page: Page, browser: Browser, browser_errors, live_server, cairo, register, db
):
    """L1: the first LMS step starts the launch; L5: the store is marked launched only
    once its LMS steps (L1), pre-launch checks with the test order (L4) and UAT, test
    payments disabled included, are complete, or by the team leader's override with a
    reason. The client list then shows them live."""
    _, leader, acm = cairo
    client = register(acm, "NILE03", "Nile Crafts")
    other = register(acm, "NILE04", "Nile Gifts")
    lifecycle = page.locator("#lifecycle")
    launch_panel = page.locator("#launch-panel")
    go_live = launch_panel.get_by_role("button", name="Mark the store launched")

    sign_in(page, live_server, acm)
    open_client(page, client.id)
    page.locator("#launch-summary").get_by_role("link", name="Launch checklists").click()
    expect(page.get_by_role("heading", name="Launch of Nile Crafts")).to_be_visible()
    page.wait_for_load_state("load")
    mark_document(page)
    expect(lifecycle).to_have_attribute("data-status", "onboarding")
    expect(lifecycle).to_contain_text("Onboarding")
    expect(page.locator("#progress-lms")).to_contain_text(f"0 of {len(LMS.items)}")
    expect(go_live).to_be_disabled()
    expect(launch_panel.locator('[data-checklist="uat"]')).to_contain_text(
        f"{len(UAT.items)} open items"
    )
    expect(launch_panel).to_contain_text(
        "Only Layla Leader (the team leader) can launch the store before its launch "
        "checklists are complete."
    )
    expect(launch_panel.locator("#override-form")).to_have_count(0)

    # L1: the first LMS step ticked starts the launch, in place.
    first = LMS.items[0]
    tick(page, "lms", first.key)
    row = page.locator(f"#item-lms-{first.key}")
    expect(row).to_contain_text("Ticked by Omar Acm")
    expect(lifecycle).to_have_attribute("data-status", "launching", timeout=SWAP)
    expect(lifecycle).to_contain_text("Launching")
    expect(page.locator("#progress-lms")).to_contain_text(f"1 of {len(LMS.items)}")
    expect(page.locator("#progress-lms")).to_have_attribute("data-done", "1")
    tick(page, "lms", LMS.items[1].key)
    expect(page.locator("#progress-lms")).to_contain_text(f"2 of {len(LMS.items)}")
    expect(page.locator("#progress-uat")).to_contain_text(f"0 of {len(UAT.items)}")
    expect(go_live).to_be_disabled()

    # The portal refuses the launch too, were the button clicked anyway: it names each
    # checklist still open (L1, L4, L5).
    go_live.evaluate("button => button.removeAttribute('disabled')")
    go_live.click()
    alert = launch_panel.get_by_role("alert")
    expect(alert).to_contain_text(
        f"LMS service: {len(LMS.items) - 2} item(s) open, first “{LMS.items[2].text}”",
        timeout=SWAP,
    )
    expect(alert).to_contain_text(f"Pre-launch checks: {len(PRE_LAUNCH.items)} item(s) open")
    expect(alert).to_contain_text(
        f"Final launch checklist (UAT): {len(UAT.items)} item(s) open, first “{UAT.items[0].text}”"
    )
    expect(go_live).to_be_disabled()
    expect(lifecycle).to_have_attribute("data-status", "launching")

    # The LMS steps and the pre-launch checks were done over the weeks, all but the test
    # order (L4).
    for definition in (LMS, PRE_LAUNCH):
        for item in definition.items:
            if item.key != "test-order":
                onboarding.update_item(client, definition.key, item.key, actor=acm, done=True)
    db.session.commit()

    # Every UAT item but test payments disabled: still not launchable.
    others = [i for i in UAT.items if i.key != TEST_PAYMENTS_DISABLED]
    for n, item in enumerate(others, start=1):
        tick(page, "uat", item.key)
        expect(page.locator("#progress-uat")).to_contain_text(f"{n} of {len(UAT.items)}")
    expect(launch_panel.locator("[data-checklist]")).to_have_count(2)
    expect(launch_panel.locator('[data-checklist="pre_launch"] li')).to_have_text(
        [definition_of("pre_launch", "test-order").text]
    )
    expect(launch_panel.locator('[data-checklist="uat"] li')).to_have_text(
        ["Test payments disabled, just before launch"]
    )
    expect(go_live).to_be_disabled()

    # The test order through every payment and shipping method (L4): only the UAT is left.
    tick(page, "pre_launch", "test-order")
    expect(launch_panel.locator("[data-checklist]")).to_have_count(1, timeout=SWAP)
    expect(go_live).to_be_disabled()

    # Test payments disabled, the UAT is complete: the store goes live.
    tick(page, "uat", TEST_PAYMENTS_DISABLED)
    expect(page.locator("#progress-uat")).to_contain_text(
        f"{len(UAT.items)} of {len(UAT.items)} · complete"
    )
    expect(launch_panel.locator("#launch-complete")).to_be_visible(timeout=SWAP)
    expect(go_live).to_be_enabled()
    go_live.click()
    expect(launch_panel.locator("#launched")).to_contain_text("Live since", timeout=SWAP)
    expect(launch_panel).to_have_attribute("data-status", "live")
    expect(lifecycle).to_have_attribute("data-status", "live")
    expect(lifecycle).to_contain_text("Live")
    expect(lifecycle).to_contain_text("live since")
    expect(page.locator("#flashes")).to_contain_text("The store is live.")
    assert same_document(page), "the checklists or the launch reloaded the page"

    # The leader, in a browser of their own, launches the other store before its UAT is
    # complete: a reason is required.
    leader_browser = second_browser(browser, live_server, browser_errors)
    lead = leader_browser.new_page()
    sign_in(lead, live_server, leader)
    lead.goto(f"/clients/{other.id}/launch")
    lead.wait_for_load_state("load")
    mark_document(lead)
    panel = lead.locator("#launch-panel")
    override = panel.locator("#override-form")
    expect(panel.get_by_role("button", name="Mark the store launched")).to_be_disabled()
    expect(
        override.get_by_role("heading", name="Launch before the checklists are complete")
    ).to_be_visible()
    assert labels_pointing_elsewhere(lead) == []
    override.get_by_role("button", name="Override and launch").click()
    expect(panel.locator("#field-override-override_reason").get_by_role("alert")).to_have_text(
        "Say why the store launches before its launch checklists are complete.", timeout=SWAP
    )
    expect(lead.locator("#lifecycle")).to_have_attribute("data-status", "onboarding")
    override = panel.locator("#override-form")
    override.get_by_label("Why launch now").fill("Eid campaign starts tomorrow; UAT by Sunday.")
    override.get_by_role("button", name="Override and launch").click()
    expect(panel.locator("#launched")).to_contain_text("Live since", timeout=SWAP)
    expect(lead.locator("#lifecycle")).to_have_attribute("data-status", "live")
    assert same_document(lead), "the override reloaded the page"
    lead.goto(f"/clients/{other.id}")
    expect(lead.locator("#timeline li[data-kind=store_launched]")).to_contain_text(
        "Store launched by leader override: Eid campaign starts tomorrow; UAT by Sunday."
    )
    leader_browser.close()

    # The ACM's client list, filtered by status, shows both stores live.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Clients").click()
    expect(page.get_by_role("heading", name="Clients")).to_be_visible()
    page.wait_for_load_state("load")
    page.get_by_label("Status").select_option(label="Live")
    expect(page).to_have_url(re.compile(r"[?&]status=live(&|$)"), timeout=SWAP)
    expect(page.locator("#client-count")).to_have_text("2 clients", timeout=SWAP)
    table = page.locator("#client-table")
    expect(table).to_contain_text("Nile Crafts")
    expect(table).to_contain_text("Nile Gifts")
    page.get_by_label("Status").select_option(label="Onboarding")
    expect(page.locator("#client-count")).to_have_text("0 clients", timeout=SWAP)


# --- 4. The contract's limits (L2) -------------------------------------------------------------


def test_a_delivery_past_the_contracts_limit_is_refused_next_to_the_quantity_L2(
    page: Page, live_server, cairo, register
):
    """L2: at most 7 slides & banners. Recording 8 shows the contract's words next to the
    quantity and records nothing; 7 go through; one more is refused."""
    _, _, acm = cairo
    client = register(acm, "NILE05", "Nile Crafts")
    limits = page.locator("#limits-panel")
    slides = limits.locator("#limit-slides")
    quantity_field = limits.locator("#field-usage-quantity")

    sign_in(page, live_server, acm)
    page.goto(f"/clients/{client.id}/launch")
    page.wait_for_load_state("load")
    mark_document(page)
    assert labels_pointing_elsewhere(page) == []
    expect(slides).to_have_attribute("data-used", "0")
    expect(slides).to_contain_text("at most 7 slides & banners")
    expect(limits).to_contain_text("Nothing recorded yet.")

    limits.get_by_label("Delivered").select_option(label="Slides and banners designed")
    limits.get_by_label("Quantity").fill("8")
    limits.get_by_role("button", name="Record", exact=True).click()
    expect(quantity_field.get_by_role("alert")).to_have_text(
        "The contract allows at most 7 slides & banners: 0 recorded, 8 more would make 8. "
        "A team leader can record an agreed exception.",
        timeout=SWAP,
    )
    expect(slides).to_have_attribute("data-used", "0")
    expect(limits).to_contain_text("Nothing recorded yet.")
    expect(limits.locator("ul.usage li")).to_have_count(0)
    # The form keeps what was typed, to correct it.
    expect(limits.get_by_label("Delivered")).to_have_value("slides")
    expect(limits.get_by_label("Quantity")).to_have_value("8")

    limits.get_by_label("Quantity").fill("7")
    limits.get_by_role("button", name="Record", exact=True).click()
    expect(limits.locator("ul.usage li")).to_have_count(1, timeout=SWAP)
    expect(limits.locator("ul.usage li")).to_contain_text("Slides and banners designed: 7")
    expect(slides).to_have_attribute("data-used", "7")
    expect(slides).to_contain_text("None left")
    expect(page.locator("#flashes")).to_contain_text("Recorded: slides and banners designed, 7.")
    expect(quantity_field.get_by_role("alert")).to_have_count(0)

    limits.get_by_label("Delivered").select_option(label="Slides and banners designed")
    limits.get_by_label("Quantity").fill("1")
    limits.get_by_role("button", name="Record", exact=True).click()
    expect(quantity_field.get_by_role("alert")).to_have_text(
        "The contract allows at most 7 slides & banners: 7 recorded, 1 more would make 8. "
        "A team leader can record an agreed exception.",
        timeout=SWAP,
    )
    expect(slides).to_have_attribute("data-used", "7")
    expect(limits.locator("ul.usage li")).to_have_count(1)
    assert same_document(page), "the limits panel reloaded the page"


# --- 5. A checklist item's note and evidence, and an untick (L1) ------------------------------


def test_an_items_note_and_evidence_open_in_place_and_a_tick_can_be_undone_L1(
    page: Page, live_server, cairo, register
):
    """L1: each step with what was agreed and its evidence (links), edited in place; bad
    evidence is refused in the row, nothing saved; Cancel puts the row back; an untick
    takes the progress back."""
    _, _, acm = cairo
    client = register(acm, "NILE06", "Nile Crafts")
    step = LMS.items[1]
    row = page.locator(f"#item-lms-{step.key}")
    progress = page.locator("#progress-lms")

    sign_in(page, live_server, acm)
    page.goto(f"/clients/{client.id}/launch")
    page.wait_for_load_state("load")
    mark_document(page)

    row.get_by_role("link", name="note & evidence").click()
    expect(row.get_by_role("button", name="Save")).to_be_visible(timeout=SWAP)
    assert labels_pointing_elsewhere(page) == []
    row.get_by_label("Note").fill("Agreed on the onboarding call: the Fashion template.")
    row.get_by_label("Evidence links").fill("https://mail.example.com/thread/1\nscreenshot.png")
    row.get_by_role("button", name="Save").click()
    expect(row.get_by_role("alert")).to_have_text(
        "“screenshot.png” is not a web address (https://…).", timeout=SWAP
    )
    expect(row.get_by_label("Note")).to_have_value(
        "Agreed on the onboarding call: the Fashion template."
    )

    # Cancel: the row as it was, nothing saved.
    row.get_by_role("link", name="Cancel").click()
    expect(row.get_by_role("link", name="note & evidence")).to_be_visible(timeout=SWAP)
    expect(row.locator(".note")).to_have_count(0)

    row.get_by_role("link", name="note & evidence").click()
    row.get_by_label("Note").fill("Agreed on the onboarding call: the Fashion template.")
    row.get_by_label("Evidence links").fill(
        "https://mail.example.com/thread/1\nhttps://files.example.com/template.png"
    )
    row.get_by_role("button", name="Save").click()
    expect(row.locator(".note")).to_have_text(
        "Agreed on the onboarding call: the Fashion template.", timeout=SWAP
    )
    expect(row.locator("ul.evidence a")).to_have_text(
        ["https://mail.example.com/thread/1", "https://files.example.com/template.png"]
    )
    expect(row.get_by_role("link", name="edit")).to_be_visible()
    expect(row).to_contain_text("Last update")
    expect(page.locator("#flashes")).to_contain_text(f"“{step.text}”: note and evidence saved.")
    # A note is not a tick: the launch has not started.
    expect(row).to_have_attribute("data-done", "false")
    expect(progress).to_have_attribute("data-done", "0")
    expect(page.locator("#lifecycle")).to_have_attribute("data-status", "onboarding")

    # Ticked, then unticked: the progress follows both ways; the note stays.
    tick(page, "lms", step.key)
    expect(progress).to_have_attribute("data-done", "1")
    expect(page.locator("#lifecycle")).to_have_attribute("data-status", "launching", timeout=SWAP)
    row.get_by_role("checkbox").click()
    expect(row).to_have_attribute("data-done", "false", timeout=SWAP)
    expect(row.get_by_role("checkbox")).not_to_be_checked()
    expect(row).not_to_contain_text("Ticked by")
    expect(progress).to_have_attribute("data-done", "0")
    expect(progress).to_contain_text(f"0 of {len(LMS.items)}")
    expect(row.locator(".note")).to_have_text(
        "Agreed on the onboarding call: the Fashion template."
    )
    assert same_document(page), "the item's note, evidence or ticks reloaded the page"

    page.reload()
    expect(row.locator("ul.evidence a")).to_have_count(2)
    expect(row).to_have_attribute("data-done", "false")
