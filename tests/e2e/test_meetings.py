"""Meetings, minutes and the ACM's day in a real browser (G2, F3, G5, F1).

An ACM in Riyadh runs a client in New York: the meeting is typed in the client's time zone
and previewed in the ACM's (F3), refused under 4 hours' notice without a reason, confirmed
by email with its invite; a held meeting takes its recording link (G2) and owes minutes
(G5), sent with an action item that is then done; the ACM's day lists what is owed.

The portal's clock is frozen (`frozen_clock`, shared by the server's threads); the
browser's is not, except in the day test where Playwright's clock runs the page's polling.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from playwright.sync_api import Page, expect
from sqlalchemy import select

from kamportal import clock
from kamportal.models import Meeting
from kamportal.services import meetings
from tests.e2e.conftest import sign_in
from tests.e2e.test_clients import SWAP, mark_document, open_client, open_tab, same_document

# The frozen clock's start (frozen_clock): Monday 23 Nov 2026, 09:00 UTC, that is 04:00 in
# New York (EST, UTC-5) and 12:00 in Riyadh (UTC+3).
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ZOOM = "https://zoom.us/j/1234567890"


@pytest.fixture
def riyadh(make_portfolio):
    """A Riyadh team: a leader and an ACM, both in Asia/Riyadh."""
    riyadh = make_portfolio(
        team={
            "name": "Riyadh",
            "country": "SA",
            "timezone": "Asia/Riyadh",
            "shared_mailbox": "riyadh-kam@kam.example",
        },
        leader={"name": "Layla Leader", "email": "layla@kam.example", "timezone": "Asia/Riyadh"},
        acm={"name": "Ahmed ACM", "email": "ahmed@kam.example", "timezone": "Asia/Riyadh"},
        client=False,
    )
    return riyadh.team, riyadh.leader, riyadh.acm


@pytest.fixture
def hudson(riyadh, make_client, make_contact):
    """A New York client of the Riyadh ACM, with a primary contact and another."""
    _, _, acm = riyadh
    client = make_client(
        acm=acm,
        store_name="Hudson Home",
        country="US",
        timezone="America/New_York",
        currency="USD",
        language="en",
    )
    sara = make_contact(client, name="Sara Stone", email="sara@hudson.example", is_primary=True)
    omar = make_contact(client, name="Omar Reed", email="omar@hudson.example")
    return client, sara, omar


def held_meeting_owing_minutes(db, client, acm, attendees) -> Meeting:
    """A weekly meeting booked at T0 for T0 + 1 h (short notice), then the clock moves on
    2 hours: it has started and ended, and is still "scheduled"."""
    meeting = meetings.schedule_meeting(
        client,
        actor=acm,
        kind="weekly",
        starts_at=T0 + timedelta(hours=1),
        duration_minutes=30,
        zoom_link=ZOOM,
        agenda="Holiday campaign",
        attendees=attendees,
        short_notice_reason="The client asked to talk this morning",
    )
    db.session.commit()
    clock.advance(timedelta(hours=2))
    return meeting


# --- 1. Scheduling: typed in the client's zone, previewed in the ACM's (F3) -------------------


def test_scheduling_a_meeting_previews_the_acms_time_and_swaps_the_panel_F3(
    page: Page, live_server, frozen_clock, riyadh, hudson
):
    """The ACM types Thursday 10:00 New York time and sees 18:00 Riyadh before sending;
    the meeting appears in the panel and on the timeline without a page load."""
    _, _, acm = riyadh
    client, _, _ = hudson
    panel = page.locator("#meetings-panel")
    form = page.locator("#new-meeting-form")

    sign_in(page, live_server, acm)
    open_client(page, client.id, tab="meetings")
    expect(panel).to_contain_text("No meeting scheduled.")

    panel.get_by_role("link", name="Schedule a meeting").click()
    expect(form.get_by_role("heading", name="Schedule a meeting")).to_be_visible(timeout=SWAP)
    expect(form).to_contain_text("In the client's time zone, America/New_York")
    preview = form.locator("#new-meeting-preview")
    expect(preview).to_contain_text("Type the date and time to see them in Ahmed ACM's time zone")

    form.get_by_label("Date").fill("2026-11-26")
    form.get_by_label("Time", exact=True).fill("10:00")
    # 10:00 EST is 15:00 UTC is 18:00 in Riyadh, shown while typing.
    expect(preview).to_have_text(
        re.compile(
            r"^\s*Thu 26 Nov 2026 10:00 EST \(America/New_York\) is\s+"
            r"Thu 26 Nov 2026 18:00 \+03 \(Asia/Riyadh\) for Ahmed ACM\.\s*$"
        ),
        timeout=SWAP,
    )
    expect(preview.locator("strong")).to_have_text("Thu 26 Nov 2026 18:00 +03 (Asia/Riyadh)")
    expect(preview).not_to_contain_text("rule F3 needs a reason")

    # The primary contact is invited already; the ACM adds the other.
    expect(form.get_by_label("Sara Stone <sara@hudson.example>")).to_be_checked()
    form.get_by_label("Omar Reed <omar@hudson.example>").check()
    form.get_by_label("Zoom link").fill(ZOOM)
    form.get_by_label("Agenda").fill("Holiday campaign results")
    form.get_by_role("button", name="Schedule").click()

    meeting = panel.locator("li.meeting")
    expect(meeting).to_have_count(1, timeout=SWAP)
    expect(form).to_have_count(0)
    expect(meeting).to_contain_text("Weekly follow-up")
    expect(meeting.locator(".when")).to_have_text("Thu 26 Nov 2026 10:00 EST (America/New_York)")
    expect(meeting).to_contain_text("Thu 26 Nov 18:00 +03 your time")
    expect(meeting).to_contain_text("With Omar Reed, Sara Stone")
    expect(meeting.get_by_role("link", name=ZOOM)).to_have_attribute("href", ZOOM)
    expect(meeting.locator(".badge-scheduled")).to_have_text("Scheduled")
    # Styled as a status of its own, not the grey default badge.
    expect(meeting.locator(".badge-scheduled")).to_have_css(
        "background-color", "rgb(232, 240, 254)"
    )
    expect(meeting.locator(".confirmation")).to_contain_text("Confirmation due")
    expect(page.locator("#flashes")).to_contain_text("Meeting scheduled for Thu 26 Nov 10:00 EST.")

    # The overview's timeline has it.
    open_tab(page, "Overview")
    event = page.locator("#timeline li[data-kind=meeting_scheduled]")
    expect(event).to_contain_text(
        # The timeline gives the time in the reader's zone (the ACM's Riyadh).
        "Meeting scheduled — Weekly follow-up meeting scheduled for 26 Nov 2026 18:00 +03, 30 min",
        timeout=SWAP,
    )
    assert same_document(page), "scheduling reloaded the page"

    open_client(page, client.id, tab="meetings")
    expect(page.locator("#meetings-panel li.meeting")).to_have_count(1)


# --- 2. Short notice: refused without a reason, then confirmed at once (F3) --------------------


def test_a_meeting_under_4_hours_needs_a_reason_and_is_confirmed_at_once_F3(
    db, page: Page, live_server, frozen_clock, riyadh, hudson, run_jobs, smtp_server
):
    """F3: 2 hours ahead is refused in the form (422) until a reason is given; then the
    timeline records the exception and the confirmation, with its .ics, goes at once."""
    _, _, acm = riyadh
    client, _, _ = hudson
    panel = page.locator("#meetings-panel")
    form = page.locator("#new-meeting-form")

    sign_in(page, live_server, acm)
    open_client(page, client.id, tab="meetings")
    panel.get_by_role("link", name="Schedule a meeting").click()
    expect(form.get_by_role("heading", name="Schedule a meeting")).to_be_visible(timeout=SWAP)

    # 06:00 in New York today is 11:00 UTC: two hours from the frozen 09:00 UTC.
    form.get_by_label("Date").fill("2026-11-23")
    form.get_by_label("Time", exact=True).fill("06:00")
    preview = form.locator("#new-meeting-preview")
    expect(preview.locator("strong")).to_have_text(
        "Mon 23 Nov 2026 14:00 +03 (Asia/Riyadh)", timeout=SWAP
    )
    expect(preview).to_contain_text("Less than 4 hours ahead: rule F3 needs a reason.")
    form.get_by_label("Zoom link").fill(ZOOM)
    form.get_by_role("button", name="Schedule").click()

    # 422: the form comes back in place, the reason's field open with F3's refusal.
    reason_field = form.locator("#field-new-meeting-short_notice_reason")
    expect(reason_field.get_by_role("alert")).to_have_text(
        "A meeting needs at least 4 hours' notice; this one starts in 2 h 00 min. "
        "Give the reason it cannot wait, or choose a later time.",
        timeout=SWAP,
    )
    expect(form.get_by_label("Time", exact=True)).to_have_value("06:00")
    expect(form.get_by_label("Zoom link")).to_have_value(ZOOM)
    expect(panel).to_contain_text("No meeting scheduled.")
    expect(page.locator("#timeline li[data-kind=meeting_scheduled]")).to_have_count(0)
    assert db.session.scalars(select(Meeting)).all() == []

    reason = "Launch tomorrow: the banner must be agreed today"
    form.get_by_label("Reason for the short notice").fill(reason)
    form.get_by_role("button", name="Schedule").click()

    meeting_row = panel.locator("li.meeting")
    expect(meeting_row).to_have_count(1, timeout=SWAP)
    expect(meeting_row.locator(".when")).to_have_text(
        "Mon 23 Nov 2026 06:00 EST (America/New_York)"
    )
    expect(meeting_row).to_contain_text(f"Short notice (F3): {reason}")
    open_tab(page, "Overview")
    exception = page.locator("#timeline li[data-kind=short_notice]")
    expect(exception).to_contain_text(
        f"Short-notice meeting — Booked 2 h 00 min ahead (under F3's 4 hours): {reason}"
        " — confirmation sent at once",
        timeout=SWAP,
    )
    expect(page.locator("#timeline li[data-kind=meeting_scheduled]")).to_have_count(1)
    assert same_document(page)

    # The confirmation is due now: one worker run sends it, with its invite.
    assert smtp_server.messages == []
    run_jobs()
    meeting = db.session.scalars(select(Meeting)).one()
    assert len(smtp_server.messages) == 1
    email = smtp_server.messages[0]
    # Python's header folding doubles the space before the encoded dash.
    assert " ".join(email["Subject"].split()) == (
        "Confirmed: Weekly follow-up meeting, Mon 23 Nov 2026 06:00 EST – Hudson Home"
    )
    assert email["To"] == "sara@hudson.example"
    invites = [
        part for part in email.iter_attachments() if part.get_content_type() == "text/calendar"
    ]
    assert [part.get_filename() for part in invites] == ["invite.ics"]
    payload = invites[0].get_content()
    calendar = Calendar.from_ical(payload if isinstance(payload, bytes) else payload.encode())
    assert str(calendar["method"]) == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    assert str(event["uid"]) == meeting.uid
    assert event.decoded("dtstart") == datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
    assert event.decoded("dtend") == datetime(2026, 11, 23, 11, 30, tzinfo=UTC)
    assert int(event["sequence"]) == 0

    # The open page shows the confirmation on the next look at the panel.
    open_tab(page, "Meetings and minutes")
    expect(page.locator("#meetings-panel li.meeting .confirmation")).to_contain_text(
        "Confirmation sent"
    )


# --- 3. Held (G2), minutes (G5), action item done ----------------------------------------------


def test_a_held_meeting_owes_minutes_which_are_sent_and_their_action_done_G2_G5(
    db, page: Page, live_server, frozen_clock, riyadh, hudson, run_jobs, smtp_server
):
    """G2: marking the meeting held needs its recording; minutes are then owed (G5). The
    empty minutes are refused field by field; sent, they list the action item until Done."""
    _, leader, acm = riyadh
    client, sara, _ = hudson
    meeting = held_meeting_owing_minutes(db, client, acm, [sara])
    meeting_row = page.locator(f"#meeting-{meeting.id}")
    minutes_panel = page.locator("#client-minutes")

    sign_in(page, live_server, acm)
    open_client(page, client.id, tab="meetings")
    expect(minutes_panel).to_contain_text("No minutes owed.")
    expect(meeting_row.get_by_role("link", name="Reschedule")).to_have_count(0)

    meeting_row.get_by_role("link", name="Mark held").click()
    held_form = page.locator(f"#meeting-{meeting.id}-held-form")
    expect(held_form.get_by_role("heading", name="The meeting took place")).to_be_visible(
        timeout=SWAP
    )
    held_form.get_by_role("button", name="Mark held").click()
    expect(held_form.get_by_role("alert")).to_have_text(
        "A held meeting needs its recording link.", timeout=SWAP
    )
    recording = "https://zoom.us/rec/share/hudson-weekly"
    held_form.get_by_label("Recording link").fill(recording)
    held_form.get_by_role("button", name="Mark held").click()

    expect(meeting_row.locator(".badge-held")).to_have_text("Held", timeout=SWAP)
    expect(meeting_row.locator(".badge-held")).to_have_css("background-color", "rgb(231, 246, 238)")
    expect(meeting_row.get_by_role("link", name=recording)).to_have_attribute("href", recording)
    expect(meeting_row.get_by_role("link", name="Mark held")).to_have_count(0)
    # The minutes panel follows the change, and the overview's timeline.
    owed = minutes_panel.locator(".owed-minutes li")
    expect(owed).to_have_count(1, timeout=SWAP)
    expect(owed).to_contain_text("Weekly follow-up meeting on 23 Nov 2026")
    expect(owed).to_contain_text("owed for less than an hour")
    open_tab(page, "Overview")
    expect(page.locator("#timeline li[data-kind=meeting_held]")).to_contain_text(
        f"recording: {recording}", timeout=SWAP
    )
    expect(page.locator("#last-contact")).to_contain_text("Last contact: today")
    assert same_document(page)
    open_tab(page, "Meetings and minutes")

    # The minutes form: sent empty, each missing piece is said on its field.
    owed.get_by_role("link", name="Write and send").click()
    expect(
        page.get_by_role("heading", name="Minutes: Weekly follow-up meeting on 23 Nov 2026")
    ).to_be_visible()
    expect(page.get_by_label("Sara Stone <sara@hudson.example>")).to_be_checked()
    page.get_by_role("button", name="Send the minutes").click()
    expect(page.locator("#field-agreed_points").get_by_role("alert")).to_have_text(
        "Minutes confirm the agreed points: write at least one."
    )

    first_row = page.locator("fieldset tbody tr").first
    page.get_by_label("Agreed points (one a line)").fill(
        "New banner for the holiday sale\nWeekly call moves to Tuesdays"
    )
    first_row.get_by_label("Action").fill("Send the banner artwork")
    first_row.get_by_label("Owner").select_option(label="Client")
    page.get_by_role("button", name="Send the minutes").click()
    expect(page.locator("#field-action_items-0-due_on").get_by_role("alert")).to_have_text(
        "An action needs a due date."
    )
    expect(page.get_by_label("Agreed points (one a line)")).to_have_value(
        "New banner for the holiday sale\nWeekly call moves to Tuesdays"
    )

    first_row = page.locator("fieldset tbody tr").first
    first_row.get_by_label("Due on").fill("2026-11-27")
    page.get_by_role("button", name="Send the minutes").click()

    # Back on the client page: nothing owed, the action item listed with its Done button.
    expect(page).to_have_url(f"{live_server}/clients/{client.id}?tab=meetings")
    expect(page.locator("#flashes")).to_contain_text("Minutes sent (G5).")
    expect(minutes_panel).to_contain_text("No minutes owed.")
    item = minutes_panel.locator("tbody tr", has_text="Send the banner artwork")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Client")
    expect(item).to_contain_text("27 Nov 2026")
    page.wait_for_load_state("load")
    mark_document(page)

    item.get_by_role("button", name="Done").click()
    expect(item).to_have_count(0, timeout=SWAP)
    expect(minutes_panel).to_contain_text("No open action items.")
    open_tab(page, "Overview")
    expect(page.locator("#timeline li[data-kind=minutes_sent]")).to_contain_text(
        "Minutes sent to Sara Stone: Weekly follow-up meeting on 23 Nov 2026"
    )
    expect(page.locator("#timeline li[data-kind=action_done]")).to_contain_text(
        "Action done (Client): Send the banner artwork", timeout=SWAP
    )
    assert same_document(page)

    # A real worker sends the minutes to the client, the G1 copies added.
    run_jobs()
    sent = [m for m in smtp_server.messages if m["Subject"].startswith("Minutes:")]
    assert len(sent) == 1
    email = sent[0]
    assert email["Subject"] == "Minutes: Weekly follow-up meeting on 23 Nov 2026"
    assert email["To"] == "sara@hudson.example"
    assert set(email["Cc"].split(", ")) >= {acm.email, leader.email, "riyadh-kam@kam.example"}
    body = email.get_body(preferencelist=("plain",)).get_content()
    assert "New banner for the holiday sale" in body
    assert "Weekly call moves to Tuesdays" in body
    assert "Send the banner artwork" in body


# --- 4. The ACM's day (G5, F1) ---------------------------------------------------------------


def test_the_acms_day_lists_owed_minutes_and_an_overdue_client_and_follows_G5_F1(
    db, page: Page, live_server, frozen_clock, riyadh, hudson, make_client
):
    """The ACM's start page lists the minutes owed (G5) and the live client not contacted
    for 10 days (F1), with since when. Minutes sent from another tab leave the day's list
    when the day page polls (its minute tick), without a reload."""
    _, _, acm = riyadh
    client, sara, _ = hudson
    make_client(
        acm=acm,
        store_name="Gulf Gadgets",
        timezone="Asia/Riyadh",
        last_contact_at=T0 - timedelta(days=10),
    )
    meeting = held_meeting_owing_minutes(db, client, acm, [sara])  # now T0 + 2 h
    meetings.mark_held(meeting, actor=acm, recording_link="https://zoom.us/rec/share/x1")
    db.session.commit()
    clock.advance(timedelta(hours=3))  # now 14:00 UTC, 17:00 in Riyadh: owed for 3 h

    # The browser's timers under Playwright's control: the day's "every 60s" on demand.
    page.clock.install()
    sign_in(page, live_server, acm)
    expect(page.get_by_text("Your day, Monday 23 November 2026")).to_be_visible()
    mark_document(page)

    minutes = page.locator("#day-minutes")
    expect(minutes.get_by_role("heading", name="Minutes owed (1)")).to_be_visible()
    owed = minutes.locator("li.day-item")
    expect(owed).to_have_count(1)
    expect(owed).to_have_attribute("data-rule", "G5")
    expect(owed.locator(".badge")).to_have_text("G5")
    expect(owed.get_by_role("link", name="Hudson Home")).to_have_attribute(
        "href", f"/clients/{client.id}"
    )
    expect(owed).to_contain_text("Minutes of the weekly follow-up meeting")
    # Held at 11:00 UTC, 14:00 in Riyadh (the ACM's zone), three hours ago.
    expect(owed).to_contain_text("owed since 23 Nov 2026 14:00 +03 (3 h)")

    followups = page.locator("#day-followups")
    late = followups.locator("li.day-item", has_text="Gulf Gadgets")
    expect(late).to_have_attribute("data-rule", "F1")
    expect(late.locator(".badge.rule")).to_have_text("F1")
    expect(late.locator(".badge-overdue")).to_have_text("Overdue")
    expect(late).to_contain_text("Weekly contact overdue")
    # Last contact 13 Nov 09:00 UTC: a week later, 20 Nov 12:00 in Riyadh, 3 days 5 h ago.
    expect(late).to_contain_text("Overdue since 20 Nov 2026 12:00 +03 (3 days 5 h)")
    expect(late).to_contain_text("last contact 13 Nov 2026 12:00 +03")
    # The client whose meeting was held counts as contacted (F1).
    expect(followups).not_to_contain_text("Hudson Home")

    # Another tab: the client page, the minutes written and sent.
    other = page.context.new_page()
    other.goto(f"/clients/{client.id}?tab=meetings")
    other.locator("#client-minutes").get_by_role("link", name="Write and send").click()
    other.get_by_label("Agreed points (one a line)").fill("Holiday banner agreed")
    other.get_by_role("button", name="Send the minutes").click()
    expect(other.locator("#flashes")).to_contain_text("Minutes sent (G5).")
    expect(other.locator("#client-minutes")).to_contain_text("No minutes owed.")
    other.close()

    # The day page heard nothing (events stay in their own page) until its minute tick.
    expect(owed).to_have_count(1)
    page.clock.run_for(61_000)
    expect(minutes.get_by_role("heading", name="Minutes owed (0)")).to_be_visible(timeout=SWAP)
    expect(minutes).to_contain_text("Nothing here.")
    expect(followups.locator("li.day-item", has_text="Gulf Gadgets")).to_be_visible()
    assert same_document(page), "the day page reloaded"
