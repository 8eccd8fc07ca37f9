"""The leader's view (issue 14) in a real browser: a leader signs in, lands on their
team, opens a late count and sees exactly those items, each opening its client."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect

from kamportal import clock
from kamportal.models import NotSellingAlert
from tests.e2e.conftest import sign_in


def test_a_leader_opens_a_breach_count_and_lands_on_the_items(
    db, page: Page, live_server, make_portfolio, make_client
):
    now = clock.now()
    world = make_portfolio(
        team={"name": "Cairo"},
        acm={"name": "Amal Hassan"},
        client={"store_name": "Nile Crafts", "last_contact_at": now - timedelta(days=9)},
    )
    make_client(acm=world.acm, store_name="Delta Home", last_contact_at=None)
    selling = make_client(
        acm=world.acm, store_name="Sinai Sun", last_contact_at=now - timedelta(days=1)
    )
    db.session.add(
        NotSellingAlert(client_id=selling.id, raised_at=now, cause="no_orders", detail="x")
    )
    db.session.commit()

    sign_in(page, live_server, world.leader)
    late = page.locator("#late")
    expect(page.locator("h1#team")).to_have_text("Cairo")
    row = late.locator(f"#late-acm-{world.acm.id}")
    expect(row).to_contain_text("Amal Hassan")
    row.locator('[data-rule="F1"] a').click()

    expect(page.locator("h1")).to_contain_text("Weekly contact overdue")
    items = page.locator("#late-items")
    expect(items.locator("li")).to_have_count(2)
    expect(items).to_contain_text("Delta Home")
    expect(items).to_contain_text("Nile Crafts")
    expect(items).not_to_contain_text("Sinai Sun")
    items.get_by_role("link", name="Nile Crafts").click()
    expect(page.locator("h1")).to_contain_text("Nile Crafts")
