"""Account planning and growth (issue 15) in a real browser, as an ACM works a key
account: writes an objective in the account plan (P1, saved in place as version 1), adds
an upsell opportunity and moves it on (P3, the row swapped in place), then reviews last
month's report and sends it to the client (P4, the PDF attached, once)."""

from __future__ import annotations

from datetime import date

from playwright.sync_api import Page, expect
from sqlalchemy import select

from kamportal.models import OutboxMessage
from tests.e2e.conftest import sign_in
from tests.e2e.test_clients import SWAP, mark_document, open_tab, same_document


def test_plan_then_opportunity_then_report_sent_P1_P3_P4(
    db, page: Page, live_server, make_portfolio, make_client_report
):
    world = make_portfolio(
        client={"store_name": "Nile Crafts", "timezone": "Africa/Cairo"},
        contact={"name": "Hoda Owner", "email": "hoda@nilecrafts.example", "is_primary": True},
    )
    report = make_client_report(world.client, month=date(2026, 10, 1))

    sign_in(page, live_server, world.acm)
    page.goto(f"{live_server}/clients/{world.client.id}?tab=growth")
    page.locator("#account-plan-panel").get_by_role("link", name="Write the plan").click()
    expect(page.locator("h1")).to_contain_text("Account plan")
    mark_document(page)

    # P1: an objective, saved in place as the plan's first version.
    page.get_by_text("Add an objective").click()
    goal = page.locator("#new-goal-form")
    goal.get_by_label("Goal").fill("Grow online revenue")
    goal.get_by_label("Metric").fill("Monthly GMV")
    goal.get_by_label("Target").fill("EGP 500,000")
    goal.get_by_label("Due by").fill("2027-06-30")
    goal.get_by_role("button", name="Add the objective").click()
    plan = page.locator("#account-plan")
    expect(plan.locator("#plan-goals")).to_contain_text("Grow online revenue", timeout=SWAP)
    expect(plan.locator("#plan-status")).to_contain_text("Version 1")
    expect(plan.locator("#plan-versions")).to_contain_text("Goal added: Grow online revenue")
    assert same_document(page)

    # P3: an opportunity on the client page, then moved on from its row.
    page.goto(f"{live_server}/clients/{world.client.id}?tab=growth")
    mark_document(page)
    panel = page.locator("#opportunity-panel")
    panel.get_by_role("link", name="Add an opportunity").click()
    form = page.locator("#opportunity-form")
    form.get_by_label("Kind").select_option("plan_upgrade")
    form.get_by_label("Title").fill("Move to the Ultimate plan")
    form.get_by_label("Amount").fill("24,000")
    form.get_by_label("Expected close date").fill("2027-01-31")
    form.get_by_role("button", name="Save").click()
    row = panel.locator("tr[id^='opportunity-']").filter(has_text="Move to the Ultimate plan")
    expect(row).to_contain_text("Identified", timeout=SWAP)
    row.get_by_label("Move to").select_option("proposed")
    row.get_by_role("button", name="Move").click()
    expect(panel.locator("tr[data-stage='proposed']")).to_contain_text(
        "Move to the Ultimate plan", timeout=SWAP
    )
    assert same_document(page)

    # P4: last month's report reviewed, then sent once with its PDF.
    open_tab(page, "Renewals and invoices")
    page.locator("#client-reports-panel").get_by_role("link", name="October 2026").click()
    report_form = page.locator("#client-report-form")
    report_form.get_by_label("Your commentary on the month").fill(
        "October grew on the Eid campaign."
    )
    report_form.get_by_label("Proposals for next month").fill(
        "Abandoned-cart app; a loyalty programme."
    )
    report_form.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Report saved.")).to_be_visible(timeout=SWAP)
    page.get_by_role("button", name="Send to the client").click()
    expect(page.get_by_text("The report is on its way to the client.")).to_be_visible()

    db.session.expire_all()
    [message] = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.client_id == world.client.id)
    ).all()
    assert message.to_addrs == ["hoda@nilecrafts.example"]
    [attachment] = message.attachments
    assert attachment["filename"].endswith(".pdf")
    db.session.refresh(report)
    assert report.status == "sent"
