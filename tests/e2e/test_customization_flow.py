"""A customization request from start to end in real browsers (C1-C7, R8, R9, G1), each
person in a browser of their own: the ACM opens it from the client page; product accepts
it and estimates the period; commercial prices it; the ACM asks for a 30% discount that
commercial approves; the ACM writes the concept document (a basic and an extra milestone)
and sends it; the client approves it through the emailed link; the ACM invoices it (the
discount on the invoice) and reports the client's wire transfer, which finance confirms;
the customization ticket opens; the ACM marks the milestones done and sends the acceptance
link; the client accepts; the ACM closes it; the client answers the survey; the client page
shows the result. And a rejection whose reason the ACM emails the client, the leader in CC.

The emailed links are read from the messages the outbox delivered (a real SMTP sink), as
the client would click them. Each change made in place is checked to have swapped its
part of the page without a page load (`same_document`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from kamportal.models import Role, User
from tests.client_view import readable
from tests.e2e.conftest import sign_in
from tests.e2e.test_clients import SWAP, mark_document, open_client, same_document
from tests.e2e.test_onboarding import second_browser


@pytest.fixture
def people(make_portfolio, make_user) -> dict:
    """Giza's team (a leader, a shared mailbox), its ACM and client Pyramid Perfumes (EGP,
    contact Mona), product, commercial and finance."""
    giza = make_portfolio(
        team={"name": "Giza", "shared_mailbox": "giza-kam@kam.example"},
        leader={"name": "Lamia Leader", "email": "lamia@kam.example"},
        acm={"name": "Karim ACM", "email": "karim@kam.example"},
        client={"store_name": "Pyramid Perfumes", "store_code": "PYR01", "currency": "EGP"},
        contact={"name": "Mona Hegazy", "email": "mona@pyramid.example", "is_primary": True},
    )
    return giza.as_dict(
        product=make_user(Role.PRODUCT, name="Dina Product", email="dina@kam.example"),
        commercial=make_user(Role.COMMERCIAL, name="Hany Commercial", email="hany@kam.example"),
        finance=make_user(Role.FINANCE, name="Fatma Finance", email="fatma@kam.example"),
    )


@pytest.fixture
def browser_of(browser: Browser, live_server: str, browser_errors) -> Callable[..., Page]:
    """`browser_of(user)`: that person's own browser, signed in, on their start page;
    `browser_of(None)`: the client's, signed in nowhere."""

    def open_browser(user: User | None) -> Page:
        page = second_browser(browser, live_server, browser_errors).new_page()
        if user is not None:
            sign_in(page, live_server, user)
        return page

    return open_browser


def ready(page: Page) -> None:
    """The page loaded, its deferred htmx ready, and marked (a page load drops the mark)."""
    page.wait_for_load_state("load")
    mark_document(page)


# What a client must never read: a rule's ID or a ticket's key (ticket keys name SAL and
# CUST projects here).
INTERNAL = re.compile(r"\b(?:[CGORLFEP]\d{1,2}|SAL-\d+|CUST-\d+)\b")


def names_nothing_internal(text: str) -> None:
    """In the words the client reads (a link's random token may hold "-C7-" by chance)."""
    words = readable(text)
    assert not INTERNAL.search(words), INTERNAL.search(words)


@pytest.fixture
def emailed_link(run_jobs, smtp_server) -> Callable[[str], str]:
    """`emailed_link(path)`: deliver what the outbox holds; the link to `path` in the last
    message carrying one (to the client, its leader in CC: G1; nothing internal in it), as
    the client clicks it."""

    def read(path: str) -> str:
        run_jobs()
        pattern = re.compile(rf"http://\S+/{path}/[\w.-]+")
        for message in reversed(smtp_server.messages):
            body = message.get_content()
            if match := pattern.search(body):
                assert message["To"] == "mona@pyramid.example"
                assert "lamia@kam.example" in message["Cc"]  # G1
                names_nothing_internal(body)
                return match.group(0)
        raise AssertionError(f"no email with a link to /{path}/: {smtp_server.messages}")

    return read


def client_answers(page: Page, link: str, answer: Callable[[Page], None], button: str) -> None:
    """The client opens an emailed link (signed in nowhere; nothing internal on the page),
    gives `answer(page)` and presses `button`: the thank-you replaces the page in place."""
    page.goto(link)
    ready(page)
    expect(page.locator(".whoami")).to_have_count(0)
    names_nothing_internal(page.locator("body").inner_text())
    answer(page)
    page.get_by_role("button", name=button).click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible(timeout=SWAP)
    assert same_document(page), f"{button} reloaded the client's page"


def open_request(page: Page, client_id: int, title: str) -> None:
    """C1: the ACM asks for a customization from the client page."""
    open_client(page, client_id, tab="growth")
    page.locator("#customizations-panel").get_by_role(
        "link", name="Ask for a customization"
    ).click()
    form = page.locator("#customization-form")
    form.get_by_label("Title").fill(title)
    form.get_by_label("The end result, in detail").fill("Points earned on every order")
    form.get_by_label("Who will use it").fill("Returning customers")
    form.get_by_label("How the client will know it is done").fill("An order paid with points")
    form.get_by_label("Wanted by").fill((date.today() + timedelta(days=60)).isoformat())
    form.get_by_label("Attachments").set_input_files(
        {"name": "scope.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7 scope"}
    )
    form.get_by_role("button", name="Send to product").click()
    expect(page.locator("h1")).to_contain_text(f": {title}")
    expect(page.locator("#attachments")).to_contain_text("scope.pdf")


def decide(desk: Page, title: str, decision: str, reason: str = "") -> None:
    """C3: product opens the request from its queue and decides it."""
    desk.locator("#waiting-requests").get_by_role("link", name=re.compile(title)).click()
    form = desk.locator("#decision-form")
    form.get_by_label(decision, exact=True).check()
    if reason:
        form.get_by_label("Reason, or what you need").fill(reason)
    form.get_by_role("button", name="Decide").click()


def test_a_customization_from_the_request_to_the_clients_survey_C1_to_C7_R8_R9_G1(
    app, page: Page, live_server, people, browser_of, run_jobs, emailed_link
):
    client, acm = people["client"], people["acm"]
    app.config["PUBLIC_URL"] = live_server
    title = "Loyalty points"

    # 1. C1, C2: the ACM opens the request; its approval ticket opens in the ticket system.
    sign_in(page, live_server, acm)
    open_request(page, client.id, title)
    request_url = page.url
    run_jobs()
    page.reload()
    expect(page.locator("#tickets")).to_contain_text("Approval ticket")
    expect(page.locator("#tickets")).not_to_contain_text("being opened")
    reference = page.locator("h1").inner_text().split(":")[0]
    assert reference.startswith("SAL-")

    # 2. C3, C4: product accepts it and estimates the period, in place.
    desk = browser_of(people["product"])
    decide(desk, title, "Accept")
    estimate = desk.locator("#to-estimate")
    expect(estimate).to_contain_text(reference)
    estimate.get_by_role("link", name=f"{reference}: {title}").click()
    ready(desk)
    quotation = desk.locator("#quotation")
    expect(quotation).to_have_attribute("data-stage", "pricing")
    quotation.get_by_label("Estimated period (days)").fill("20")
    quotation.get_by_role("button", name="Set the period").click()
    expect(desk.locator("#quotation-period")).to_have_text("20 days", timeout=SWAP)
    assert same_document(desk), "setting the period reloaded the page"
    desk.context.close()

    # C4: commercial prices it from its queue, in place: the quotation is ready.
    sales = browser_of(people["commercial"])
    to_price = sales.locator("#to-price")
    expect(to_price).to_contain_text("20 days")
    to_price.get_by_role("link", name=f"{reference}: {title}").click()
    ready(sales)
    quotation = sales.locator("#quotation")
    quotation.get_by_label("Price", exact=True).fill("10000")
    expect(quotation.get_by_label("Currency")).to_have_value("EGP")
    quotation.get_by_role("button", name="Set the price").click()
    expect(quotation).to_have_attribute("data-stage", "concept", timeout=SWAP)
    expect(sales.locator("#quotation-price")).to_have_text("EGP10,000.00")
    assert same_document(sales), "setting the price reloaded the page"

    # The ACM sees the quotation ready: on the client page's timeline and the request's line.
    open_client(page, client.id)
    expect(page.locator("#timeline li[data-kind=quotation_ready]")).to_contain_text(
        f"{reference}: quotation ready, EGP10,000.00 over 20 days"
    )
    open_client(page, client.id, tab="growth")
    line = page.locator("#customizations-panel li").first
    expect(line).to_contain_text("Concept document")
    expect(line).to_contain_text("EGP10,000.00 · 20 days")
    expect(line).to_contain_text("write the concept document")

    # R9: the ACM asks commercial for 30% off the fee, in place.
    page.goto(request_url)
    ready(page)
    discount = page.locator("#quotation-discount-form")
    discount.get_by_label("Discount (%)").fill("30")
    discount.get_by_label("The customization fee", exact=True).check()
    discount.get_by_role("button", name="Ask for the discount").click()
    expect(page.locator("#quotation-discount")).to_contain_text("30% on the customization fee")
    expect(page.locator("#quotation-discount")).to_contain_text("Requested")
    expect(page.locator("#quotation-discount-form")).to_have_count(0)
    assert same_document(page), "asking for the discount reloaded the page"

    # Commercial approves it in its queue, the row swapped in place.
    sales.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Pricing and discounts"
    ).click()
    ready(sales)
    asked = sales.locator("#requested-discounts tbody tr").first
    expect(asked).to_contain_text(f"{reference}: {title}")
    expect(asked).to_contain_text("30%")
    asked.get_by_role("button", name="Approve").click()
    expect(asked).to_have_attribute("data-status", "approved", timeout=SWAP)
    expect(asked).to_contain_text("Approved by Hany Commercial")
    assert same_document(sales), "approving the discount reloaded the page"
    sales.context.close()

    # 3. C5: the ACM writes the concept document, a basic and an extra milestone.
    page.reload()
    expect(page.locator("#quotation-discount")).to_contain_text("Approved")
    concept = page.locator("#concept-panel")
    expect(concept).to_have_attribute("data-state", "not_written")
    concept.get_by_role("link", name="Write the concept document").click()
    ready(page)
    form = page.locator("#concept-form")
    expect(form.get_by_label("Scope of work")).to_have_value("Points earned on every order")
    form.get_by_label("Activities").fill("Design the points rules\nBuild the checkout step")
    form.get_by_role("button", name="Add a milestone").click()
    rows = page.locator("#concept-form tbody tr")
    expect(rows).to_have_count(2, timeout=SWAP)
    assert same_document(page), "adding a milestone row reloaded the page"
    basic_due, extra_due = date.today() + timedelta(days=14), date.today() + timedelta(days=28)
    for row, (name, kind, due) in zip(
        (rows.nth(0), rows.nth(1)),
        (
            ("Points at checkout", "Basic function", basic_due),
            ("Points balance email", "Extra requirement", extra_due),
        ),
        strict=True,
    ):
        row.get_by_label("Milestone").fill(name)
        row.get_by_label("Kind").select_option(label=kind)
        row.get_by_label("Due on").fill(due.isoformat())
    form.get_by_role("button", name="Save the concept document").click()
    # Saved, the browser is on the request's page again (not that page inside the form).
    expect(page).to_have_url(request_url)
    expect(page.locator("#flashes")).to_contain_text("Concept document saved.")
    expect(page.locator("#concept-panel")).to_have_attribute("data-state", "not_sent")
    expect(page.locator("#concept-form")).to_have_count(0)
    ready(page)

    # It goes to the client by email, in place.
    concept = page.locator("#concept-panel")
    concept.get_by_role("button", name="Send to the client to approve").click()
    expect(concept).to_have_attribute("data-state", "sent", timeout=SWAP)
    expect(concept).to_contain_text("Sent to mona@pyramid.example")
    assert same_document(page), "sending the concept document reloaded the page"

    # The client opens the emailed link, without a login, and approves by typing the name.
    link = emailed_link("concept")
    mona = browser_of(None)

    def approve(concept_page: Page) -> None:
        expect(concept_page.locator("#concept-page")).to_contain_text("Points at checkout")
        expect(concept_page.locator("#concept-page")).to_contain_text("Points balance email")
        approval = concept_page.locator("#concept-approval-form")
        approval.get_by_label("Your full name").fill("Mona Hegazy")
        approval.get_by_label("I have read this concept document and I approve it.").check()

    client_answers(mona, link, approve, "Approve")

    # The ACM's page shows it approved, and the invoice owed.
    page.reload()
    ready(page)
    expect(page.locator("#concept-state")).to_have_text("Approved")
    expect(page.locator("#concept-approval")).to_contain_text(
        "by Mona Hegazy through the emailed link"
    )
    expect(page.locator("#quotation")).to_have_attribute("data-stage", "invoicing")

    # 4. C6, R9: the ACM issues the invoice, in place; the discount is on it.
    invoice_form = page.locator("#quotation-invoice-form")
    invoice_form.get_by_label("Due date").fill((date.today() + timedelta(days=7)).isoformat())
    invoice_form.get_by_role("button", name="Issue the invoice").click()
    expect(page.locator("#quotation")).to_have_attribute("data-stage", "payment", timeout=SWAP)
    expect(page.locator("#quotation-invoice")).to_contain_text("waiting for the client's payment")
    assert same_document(page), "issuing the invoice reloaded the page"

    open_client(page, client.id, tab="renewals")
    invoice_row = page.locator("#renewal-panel table.invoices tbody tr").first
    expect(invoice_row).to_have_attribute("data-status", "unpaid")
    expect(invoice_row).to_contain_text(f"Customization: {title}: EGP10,000.00")
    expect(invoice_row).to_contain_text("Discount (30%) on the customization fee: -EGP3,000.00")
    expect(invoice_row).to_contain_text("EGP7,000.00")

    # R7: the client paid by wire; the ACM reports it, in place.
    invoice_row.get_by_role("link", name="Wire sent").click()
    wire_form = page.locator("form[id^=renewal-wire-]")
    expect(wire_form.get_by_label("Amount")).to_have_value("7000.00")
    wire_form.get_by_label("Bank reference").fill("NBE 440019")
    wire_form.get_by_role("button", name="Report the wire transfer").click()
    expect(invoice_row).to_contain_text("Waiting for finance", timeout=SWAP)
    assert same_document(page), "reporting the wire reloaded the page"

    # Finance confirms it in place.
    cashier = browser_of(people["finance"])
    ready(cashier)
    wire = cashier.locator("#wires tbody tr").first
    expect(wire).to_contain_text("Pyramid Perfumes")
    wire.get_by_role("link", name="Confirm or reject…").click()
    expect(wire.get_by_label("Amount received")).to_have_value("7000.00", timeout=SWAP)
    wire.get_by_role("button", name="Confirm received").click()
    expect(wire).to_have_attribute("data-status", "confirmed", timeout=SWAP)
    expect(wire).to_contain_text("Invoice paid")
    assert same_document(cashier), "confirming the wire reloaded the page"
    cashier.context.close()

    # Paid: the request is in delivery, and its customization ticket opens (a job).
    page.goto(request_url)
    expect(page.locator("#quotation")).to_have_attribute("data-stage", "delivery")
    expect(page.locator("#quotation-invoice")).to_contain_text("Paid ")
    expect(page.locator("#tickets")).to_contain_text("being opened in the ticket system (paid")
    run_jobs()
    page.reload()
    ready(page)
    expect(page.locator("#tickets")).to_contain_text("Customization ticket")
    expect(page.locator("#tickets")).to_contain_text("CUST-")
    ticket = re.search(r"CUST-\d+", page.locator("#tickets").inner_text())
    assert ticket is not None

    # 5. C7: the ACM marks the milestones done, each row in place.
    delivery = page.locator("#delivery")
    expect(page.locator("#delivery-progress")).to_have_attribute("data-total", "2")
    for done, name in enumerate(("Points at checkout", "Points balance email"), start=1):
        row = delivery.locator(".milestone-row", has_text=name)
        row.get_by_label("Status").select_option(label="Done")
        row.get_by_role("button", name="Save").click()
        expect(row).to_have_attribute("data-status", "done", timeout=SWAP)
        expect(page.locator("#delivery-progress")).to_have_attribute("data-done", str(done))
    assert same_document(page), "saving a milestone reloaded the page"

    # The acceptance link goes to the client, in place.
    delivery.get_by_role("button", name="Email the client the acceptance link").click()
    expect(page.locator("#acceptance-link")).to_contain_text(
        "Link sent to mona@pyramid.example", timeout=SWAP
    )
    assert same_document(page), "sending the acceptance link reloaded the page"

    # The client accepts the delivery through the emailed link.
    link = emailed_link("customization/accept")

    def accept(acceptance_page: Page) -> None:
        expect(acceptance_page.locator("#accepted-milestones")).to_contain_text(
            "Points at checkout"
        )
        expect(acceptance_page.locator("#exit-criteria")).to_contain_text(
            "An order paid with points"
        )
        acceptance_page.get_by_label("Your full name").fill("Mona Hegazy")

    client_answers(mona, link, accept, "I accept the delivery")

    # The ACM sees the acceptance and closes the customization, in place.
    page.reload()
    ready(page)
    expect(page.locator("#acceptance-recorded")).to_contain_text("by Mona Hegazy, through the link")
    page.get_by_role("button", name="Close the customization and send the survey").click()
    expect(page.locator("#survey-link")).to_contain_text(
        "Survey sent to mona@pyramid.example", timeout=SWAP
    )
    expect(page.locator("#delivery")).to_contain_text("by Karim ACM")
    assert same_document(page), "closing reloaded the page"

    # The client answers the survey through its link: a score and a comment.
    link = emailed_link("customization/survey")

    def score(survey_page: Page) -> None:
        question = survey_page.get_by_role("group", name="How satisfied are you with the work?")
        question.get_by_label("4", exact=True).check()
        survey_page.get_by_label("Anything you would like to tell us (optional)").fill(
            "Quick work, clear updates."
        )

    client_answers(mona, link, score, "Send")
    mona.context.close()

    # The client page shows the result.
    open_client(page, client.id, tab="growth")
    summary = page.locator("#customizations-panel .survey-result")
    expect(summary).to_have_attribute("data-score", "4")
    expect(summary).to_contain_text("Satisfaction 4 of 5: “Quick work, clear updates.”")
    expect(page.locator("#customizations-panel")).to_contain_text(ticket.group(0))


def test_product_rejects_and_the_acm_sends_the_reason_to_the_client_C3_G1(
    page: Page, live_server, people, browser_of, run_jobs, smtp_server
):
    client, acm = people["client"], people["acm"]
    title = "Custom shipping rates"

    sign_in(page, live_server, acm)
    open_request(page, client.id, title)
    request_url = page.url

    desk = browser_of(people["product"])
    decide(desk, title, "Reject", "Shipping rates come from the carrier's own app.")
    expect(desk.locator("#decided-requests")).to_contain_text("the carrier's own app")
    desk.context.close()

    # The ACM sends the reason from the request's page, edited as they see fit.
    page.goto(request_url)
    form = page.locator("#rejection-form")
    message = form.get_by_label("What the client reads")
    expect(message).to_contain_text("Shipping rates come from the carrier's own app.")
    message.fill(message.input_value() + "\n\nI can show you that app on our next call.")
    form.get_by_role("button", name="Send to the client").click()
    expect(page.locator("#rejection-sent")).to_contain_text("Sent to the client")

    run_jobs()
    [email] = [m for m in smtp_server.messages if m["Subject"].startswith("Your customization")]
    assert email["Subject"] == f"Your customization request: {title}"
    assert email["To"] == "mona@pyramid.example"
    # G1: the leader (and the team's mailbox) in CC.
    copied = {address.strip() for address in email["Cc"].split(",")}
    assert {"lamia@kam.example", "giza-kam@kam.example"} <= copied
    body = email.get_content()
    assert "the carrier's own app" in body
    assert "I can show you that app on our next call." in body
    names_nothing_internal(body)

    open_client(page, client.id, tab="growth")
    expect(page.locator("#customizations-panel")).to_contain_text("sent to the client")
