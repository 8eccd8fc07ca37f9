"""The ACM's day in a real browser (issue 16): an item links to its task itself. An ACM
whose minutes of a meeting are owed for days (G5) clicks "write the minutes" on the day,
lands on that meeting's minutes form, sends them, and the item leaves the day."""

from __future__ import annotations

import uuid
from datetime import timedelta

from playwright.sync_api import Page, expect

from kamportal import clock
from kamportal.models import Meeting, MeetingStatus, Minutes
from tests.e2e.conftest import sign_in


def test_the_owed_minutes_item_opens_the_minutes_form_and_leaves_once_sent_G5(
    db, page: Page, live_server, frozen_clock, make_portfolio
):
    world = make_portfolio(
        acm={"name": "Mona Adel", "timezone": "Africa/Cairo"},
        client={"store_name": "Nile Crafts", "timezone": "Africa/Cairo"},
        contact={"name": "Sara Stone", "email": "sara@nile.example", "is_primary": True},
    )
    now = clock.now()  # Mon 23 Nov 2026 09:00 UTC
    held = Meeting(
        client=world.client,
        organizer=world.acm,
        kind="weekly",
        starts_at=now - timedelta(days=3),
        zoom_link="https://zoom.us/j/123456789",
        uid=f"{uuid.uuid4()}@kam.example",
        status=MeetingStatus.HELD.value,
        created_at=now - timedelta(days=4),
        updated_at=now - timedelta(days=3),
    )
    minutes = Minutes(
        client=world.client,
        owner=world.acm,
        meeting=held,
        owed_since=now - timedelta(days=3),
    )
    db.session.add_all([held, minutes])
    db.session.commit()

    sign_in(page, live_server, world.acm)
    item = page.locator("#day-minutes li.day-item", has_text="Nile Crafts")
    expect(item).to_contain_text("Minutes of the weekly follow-up meeting")
    expect(item).to_contain_text("(3 days)")
    expect(item.get_by_role("link", name="Nile Crafts")).to_have_attribute(
        "href", f"/clients/{world.client.id}"
    )

    item.get_by_role("link", name="write the minutes").click()

    expect(page).to_have_url(f"{live_server}/minutes/{minutes.id}")
    expect(
        page.get_by_role("heading", name="Minutes: Weekly follow-up meeting on 20 Nov 2026")
    ).to_be_visible()
    expect(page.get_by_label("Sara Stone <sara@nile.example>")).to_be_checked()
    page.get_by_label("Agreed points (one a line)").fill("New banner for the holiday sale")
    page.get_by_role("button", name="Send the minutes").click()
    expect(page.locator("#flashes")).to_contain_text("Minutes sent (G5).")

    page.goto("/day/")
    minutes_section = page.locator("#day-minutes")
    expect(minutes_section.get_by_role("heading", name="Minutes owed (0)")).to_be_visible()
    expect(minutes_section).to_contain_text("Nothing here.")
