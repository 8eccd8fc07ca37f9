"""The ACM's day (F1, F3, G5): each section lists the user's own items with the rule and
since when; sections refresh as HTMX fragments; the page's query count does not grow with
the portfolio; an ACM's start page is their day."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from kamportal import clock
from kamportal.models import (
    ActionItem,
    Client,
    DeliveryStatus,
    Escalation,
    LadderStep,
    Meeting,
    MeetingStatus,
    Minutes,
    MinutesStatus,
    NoReplyLadder,
    OutboxMessage,
    Role,
    TimelineEvent,
    TimelineKind,
    WelcomeEmail,
)
from kamportal.services import access, accounts, day
from tests.blueprints.test_query_counts import counting_queries


def new_meeting(db, client, organizer, starts_at: datetime, **fields) -> Meeting:
    """A weekly Zoom meeting of `client`, scheduled unless `fields` say otherwise. Committed."""
    now = clock.now()
    values = {
        "kind": "weekly",
        "zoom_link": "https://zoom.us/j/123456789",
        "uid": f"{uuid.uuid4()}@kam.example",
        "status": MeetingStatus.SCHEDULED.value,
        "created_at": now,
        "updated_at": now,
    }
    values.update(fields)
    meeting = Meeting(client=client, organizer=organizer, starts_at=starts_at, **values)
    db.session.add(meeting)
    db.session.commit()
    return meeting


@pytest.fixture
def make_meeting(db):
    def make(client, organizer, starts_at: datetime, **fields) -> Meeting:
        return new_meeting(db, client, organizer, starts_at, **fields)

    return make


@pytest.fixture
def make_minutes(db):
    def make(client, owner, owed_since: datetime, **fields) -> Minutes:
        values = {"status": MinutesStatus.OWED.value}
        values.update(fields)
        minutes = Minutes(client=client, owner=owner, owed_since=owed_since, **values)
        db.session.add(minutes)
        db.session.commit()
        return minutes

    return make


@pytest.fixture
def make_action(db):
    def make(minutes: Minutes, due_on: date, **fields) -> ActionItem:
        values = {"description": "Send the banner sizes", "owner": "acm"}
        values.update(fields)
        action = ActionItem(minutes=minutes, client_id=minutes.client_id, due_on=due_on, **values)
        db.session.add(action)
        db.session.commit()
        return action

    return make


def section_of(page: str, name: str) -> str:
    match = re.search(rf'<section[^>]*id="day-{name}".*?</section>', page, re.S)
    assert match, f"no section {name}"
    return match.group(0)


def items_of(page: str, name: str) -> list[str]:
    return re.findall(r'<li class="day-item[^"]*".*?</li>', section_of(page, name), re.S)


def owed_in(page: str, name: str) -> int:
    """How many items the section says it holds (its heading's count), on every page."""
    match = re.search(r'<span class="muted">\((\d+)\)</span></h2>', section_of(page, name))
    assert match, f"no count in section {name}"
    return int(match.group(1))


def assert_owed(page: str, name: str, owed: int) -> None:
    """The section holds `owed` items and shows the first page of them (issue 17)."""
    assert owed_in(page, name) == owed, name
    assert len(items_of(page, name)) == min(owed, day.SECTION_SIZE), name


@pytest.fixture
def mona(make_team, make_user):
    """An ACM in Cairo (UTC+2 in November); the frozen clock says 11:00 there."""
    return make_user(Role.ACM, team=make_team(), name="Mona Adel", timezone="Africa/Cairo")


def test_f3_todays_meetings_are_the_users_local_day_with_the_clients_time(
    frozen_clock, mona, make_client, make_meeting, login_as
):
    now = clock.now()  # Mon 23 Nov 2026 09:00 UTC, 11:00 in Cairo
    dubai = make_client(mona, store_name="Dubai Dates", timezone="Asia/Dubai")
    make_meeting(dubai, mona, now + timedelta(hours=4), kind="qbr")  # 15:00 Cairo, 17:00 Dubai
    make_meeting(dubai, mona, datetime.fromisoformat("2026-11-22T22:30:00+00:00"))  # 00:30 today
    make_meeting(dubai, mona, datetime.fromisoformat("2026-11-23T22:00:00+00:00"))  # tomorrow
    make_meeting(dubai, mona, datetime.fromisoformat("2026-11-22T21:59:00+00:00"))  # yesterday
    make_meeting(dubai, mona, now + timedelta(hours=1), status=MeetingStatus.CANCELLED.value)

    page = login_as(mona).get("/day/").get_data(as_text=True)

    early, qbr = items_of(page, "meetings")
    assert "00:30 EET your time" in early and "02:30 +04 client" in early
    assert "Quarterly business review" in qbr
    assert "15:00 EET your time" in qbr and "17:00 +04 client" in qbr
    assert 'data-rule="F3"' in qbr and "Confirmation not sent yet" in qbr
    assert f'href="/clients/{dubai.id}"' in qbr


def test_g5_owed_minutes_show_how_long_they_are_owed(
    frozen_clock, mona, make_client, make_meeting, make_minutes, login_as
):
    now = clock.now()
    client = make_client(mona, store_name="Cairo Crafts")
    held = make_meeting(client, mona, now - timedelta(days=3), status=MeetingStatus.HELD.value)
    make_minutes(client, mona, now - timedelta(days=3, hours=2), meeting=held)
    make_minutes(client, mona, now - timedelta(minutes=40))  # after an answered call
    make_minutes(client, mona, now - timedelta(days=9), status=MinutesStatus.SENT.value)

    page = login_as(mona).get("/day/").get_data(as_text=True)

    meeting_minutes, call_minutes = items_of(page, "minutes")
    assert 'data-rule="G5"' in meeting_minutes
    assert "Minutes of the weekly follow-up meeting" in meeting_minutes
    assert "owed since 20 Nov 2026 09:00 EET (3 days 2 h)" in meeting_minutes
    assert "Minutes of the call" in call_minutes and "(40 min)" in call_minutes


def test_f1_overdue_and_due_soon_clients_show_since_and_by_when(
    frozen_clock, mona, make_client, login_as
):
    now = clock.now()
    make_client(mona, store_name="Lapsed", last_contact_at=now - timedelta(days=9))
    make_client(mona, store_name="Soon", last_contact_at=now - timedelta(days=6))
    make_client(mona, store_name="Fine", last_contact_at=now - timedelta(days=4))
    make_client(mona, store_name="Onboarding", status="onboarding", last_contact_at=None)

    page = login_as(mona).get("/day/").get_data(as_text=True)

    lapsed, soon = items_of(page, "followups")
    assert 'data-rule="F1"' in lapsed and "Lapsed" in lapsed
    assert "Overdue since 21 Nov 2026 11:00 EET (2 days)" in lapsed
    assert "Soon" in soon and "Due by 24 Nov 2026 11:00 EET (in 1 day)" in soon
    assert "Fine" not in page and "Onboarding" not in page


def test_f1_an_at_risk_client_is_held_to_the_weekly_contact_too(
    frozen_clock, mona, make_client, login_as
):
    """F1: at-risk clients need contact most: they are on the day like live ones."""
    now = clock.now()
    make_client(
        mona, store_name="Wobbly", status="at_risk", last_contact_at=now - timedelta(days=8)
    )
    make_client(mona, store_name="Gone", status="churned", last_contact_at=now - timedelta(days=8))

    page = login_as(mona).get("/day/").get_data(as_text=True)

    [wobbly] = items_of(page, "followups")
    assert "Wobbly" in wobbly and "Overdue since 22 Nov 2026 11:00 EET (1 day)" in wobbly
    assert "Gone" not in page


def test_f1_follow_ups_are_read_a_page_at_a_time_overdue_first(
    db, frozen_clock, mona, make_client, login_as
):
    """Issue 17: an ACM may owe dozens of follow-ups; the day reads the page it shows
    (overdue ones first, the longest without contact first, then those due soon), counts
    them all in the same statement, and no client twice across pages."""
    now = clock.now()
    make_client(mona, store_name="Never", last_contact_at=None)
    for n in range(12):
        make_client(mona, store_name=f"Late {n:02d}", last_contact_at=now - timedelta(days=20 - n))
    for n in range(12):
        make_client(
            mona, store_name=f"Soon {n:02d}", last_contact_at=now - timedelta(days=6.5 - n / 10)
        )
    http = login_as(mona)

    with counting_queries(db.engine) as statements:
        page = http.get("/day/items/followups", headers={"HX-Request": "true"}).get_data(
            as_text=True
        )
    assert sum("FROM clients" in s for s in statements) == 1
    first = items_of(page, "followups")
    assert owed_in(page, "followups") == 25 and len(first) == 10
    assert "Never" in first[0] and "Late 00" in first[1] and "Late 08" in first[9]
    second = items_of(http.get("/day/items/followups?page=2").get_data(as_text=True), "followups")
    assert ["Overdue since" in item for item in second] == [True] * 3 + [False] * 7
    assert "Late 11" in second[2] and "Soon 00" in second[3]
    last = items_of(http.get("/day/items/followups?page=3").get_data(as_text=True), "followups")
    assert len(last) == 5 and "Soon 11" in last[-1]
    assert not set(first) & set(second) and not set(second) & set(last)


def test_g5_action_items_due_by_today_and_not_done(
    frozen_clock, mona, make_client, make_minutes, make_action, make_user, login_as
):
    now = clock.now()
    today = date(2026, 11, 23)
    client = make_client(mona)
    minutes = make_minutes(client, mona, now - timedelta(days=5), status="sent")
    make_action(minutes, today - timedelta(days=2), description="Upload the logo")
    make_action(minutes, today, description="Agree the slides", owner="client")
    make_action(minutes, today + timedelta(days=1), description="Not yet due")
    make_action(minutes, today - timedelta(days=3), description="Already done", done_at=now)
    # Minutes another ACM wrote on Mona's client still put the action on Mona's day.
    colleague = make_user(Role.ACM)
    theirs = make_minutes(client, colleague, now - timedelta(days=5), status="sent")
    make_action(
        theirs, today, description="Chase the invoice", owner="other_team", owner_team="Finance"
    )

    page = login_as(mona).get("/day/").get_data(as_text=True)

    logo, slides, invoice = items_of(page, "actions")
    assert 'data-rule="G5"' in logo and "Due 21 Nov 2026 (overdue)" in logo
    assert "Agree the slides" in slides and "owner: Client" in slides
    assert "(overdue)" not in slides
    assert "owner: Another team: Finance" in invoice
    assert "Not yet due" not in page and "Already done" not in page


def test_f3_confirmations_due_and_unsent_or_failed_in_the_outbox(
    frozen_clock, db, mona, make_client, make_meeting, login_as
):
    now = clock.now()
    client = make_client(mona, store_name="Giza Goods")
    unsent = make_meeting(
        client,
        mona,
        now + timedelta(days=1),
        sequence=1,
        confirmed_sequence=0,
        confirmation_due_at=now - timedelta(hours=1),
    )  # rescheduled: the new time was never confirmed
    failed = make_meeting(
        client,
        mona,
        now + timedelta(days=2),
        kind="onboarding",
        sequence=0,
        confirmed_sequence=0,
        confirmation_due_at=now - timedelta(hours=3),
    )
    make_meeting(  # confirmed: nothing owed
        client,
        mona,
        now + timedelta(days=3),
        sequence=2,
        confirmed_sequence=2,
        confirmation_due_at=now - timedelta(hours=3),
    )
    make_meeting(  # not yet due
        client, mona, now + timedelta(days=3), confirmation_due_at=now + timedelta(hours=1)
    )
    message = OutboxMessage(
        idempotency_key=f"meeting-{failed.id}-confirm-0",
        channel="email",
        client_id=client.id,
        to_addrs=["c@giza.example"],
        subject="Confirmation",
        body="b",
        status=DeliveryStatus.FAILED.value,
        created_at=now - timedelta(hours=3),
    )
    db.session.add(
        TimelineEvent(
            client_id=client.id,
            kind=TimelineKind.MEETING_CONFIRMED.value,
            at=message.created_at,
            summary="Confirmation sent",
            detail={"meeting_id": failed.id, "sequence": failed.sequence},
            outbox_message=message,
        )
    )
    db.session.commit()

    page = login_as(mona).get("/day/").get_data(as_text=True)

    onboarding, weekly = items_of(page, "confirmations")
    assert 'data-rule="F3"' in onboarding and "The email failed to send" in onboarding
    assert "Confirmation of the onboarding meeting" in onboarding
    assert "owed since 23 Nov 2026 08:00 EET (3 h)" in onboarding
    assert "Due and not sent" in weekly and "(1 h)" in weekly
    assert unsent.client_id == failed.client_id


def test_f3_a_failure_of_an_earlier_version_is_not_owed_once_the_new_one_is_confirmed(
    frozen_clock, db, mona, make_client, make_meeting, login_as
):
    now = clock.now()
    client = make_client(mona)
    moved = make_meeting(
        client,
        mona,
        now + timedelta(days=2),
        sequence=1,
        confirmed_sequence=1,
        confirmation_due_at=now - timedelta(hours=2),
    )
    message = OutboxMessage(
        idempotency_key=f"meeting-{moved.id}-confirm-0",
        channel="email",
        client_id=client.id,
        to_addrs=["c@client.example"],
        subject="Confirmation",
        body="b",
        status=DeliveryStatus.FAILED.value,
        created_at=now - timedelta(days=1),
    )
    db.session.add(
        TimelineEvent(
            client_id=client.id,
            kind=TimelineKind.MEETING_CONFIRMED.value,
            at=message.created_at,
            summary="Confirmation",
            detail={"meeting_id": moved.id, "sequence": 0},
            outbox_message=message,
        )
    )
    db.session.commit()
    page = login_as(mona).get("/day/").get_data(as_text=True)
    assert items_of(page, "confirmations") == []


def test_items_of_other_acms_are_never_on_the_day(
    frozen_clock,
    db,
    make_team,
    make_user,
    make_client,
    make_meeting,
    make_minutes,
    make_action,
    login_as,
):
    now = clock.now()
    team = make_team()
    leader = make_user(Role.LEADER, team=team)
    team.leader = leader
    db.session.commit()
    karim = make_user(Role.ACM, team=team)
    theirs = make_client(karim, store_name="Karims Store", last_contact_at=now - timedelta(days=9))
    make_meeting(theirs, karim, now + timedelta(hours=2), confirmation_due_at=now)
    minutes = make_minutes(theirs, karim, now - timedelta(days=1))
    make_action(minutes, date(2026, 11, 20), description="Karims action")

    for user in (leader, make_user(Role.ACM, team=team), make_user(Role.ADMIN)):
        page = login_as(user).get("/day/").get_data(as_text=True)
        assert "Karims" not in page
        assert 'class="day-item' not in page
    # Karim sees all four kinds on his own day.
    page = login_as(karim).get("/day/").get_data(as_text=True)
    for name in ("meetings", "minutes", "followups", "actions", "confirmations"):
        assert len(items_of(page, name)) == 1, name


def test_a_section_refreshes_as_an_htmx_fragment(frozen_clock, mona, make_client, login_as):
    make_client(mona, store_name="Lapsed", last_contact_at=clock.now() - timedelta(days=9))
    http = login_as(mona)

    response = http.get("/day/items/followups", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<section class="card day-section" id="day-followups"')
    assert "<html" not in body and "Lapsed" in body
    assert 'hx-trigger="timeline-changed from:body, meeting-changed from:body, every 60s"' in body
    assert "HX-Request" in response.headers["Vary"]

    minutes = http.get("/day/items/minutes", headers={"HX-Request": "true"})
    assert 'hx-trigger="minutes-changed from:body, meeting-changed from:body, every 60s"' in (
        minutes.get_data(as_text=True)
    )
    # Without HTMX (a reload, a history restore) the whole page.
    assert "<html" in http.get("/day/items/followups").get_data(as_text=True)
    assert http.get("/day/items/nope", headers={"HX-Request": "true"}).status_code == 404


def test_the_page_polls_and_listens_for_changes_in_every_section(mona, login_as):
    page = login_as(mona).get("/day/").get_data(as_text=True)
    for name in day.SECTIONS:
        section = section_of(page, name)
        assert f'hx-get="/day/items/{name}"' in section
        assert "every 60s" in section and 'hx-swap="outerHTML"' in section
        # A section without its events would render a trigger htmx cannot parse.
        assert 'hx-trigger=", every 60s"' not in section


@pytest.mark.parametrize("role", [Role.FINANCE, Role.PRODUCT, Role.COMMERCIAL])
def test_roles_without_a_portfolio_have_no_day(role, login_as):
    http = login_as(role)
    assert http.get("/day/").status_code == 403
    assert http.get("/day/items/minutes", headers={"HX-Request": "true"}).status_code == 403
    page = http.get("/").get_data(as_text=True)
    assert 'id="day-minutes"' not in page and "My day" not in page


def test_an_acms_start_page_is_their_day(frozen_clock, mona, make_client, login_as):
    make_client(mona, store_name="Lapsed", last_contact_at=clock.now() - timedelta(days=9))
    http = login_as(mona)
    response = http.get("/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Hello, Mona Adel" in page and "Your day, Monday 23 November 2026" in page
    assert "Lapsed" in section_of(page, "followups")
    assert '<a href="/day/">My day</a>' in page


def test_admins_land_on_their_day_too(login_as):
    http = login_as(Role.ADMIN)
    start = http.get("/").get_data(as_text=True)
    assert 'id="day-escalations"' in start and 'id="day-minutes"' in start
    assert "Your day, " in start and '<a href="/day/">My day</a>' in start
    assert http.get("/day/").status_code == 200


def test_a_leader_lands_on_their_team_and_keeps_their_day(login_as):
    """Issue 14: a team's leader starts on the leader's view; their day stays at /day/."""
    http = login_as(Role.LEADER)
    start = http.get("/").get_data(as_text=True)
    assert 'id="late"' in start and 'id="day-escalations"' not in start
    assert '<a href="/day/">My day</a>' in start and '<a href="/team/">Team</a>' in start
    day_page = http.get("/day/").get_data(as_text=True)
    assert 'id="day-escalations"' in day_page


def portfolio_with_items(
    db, acm, size, make_client, make_meeting, make_minutes, make_action, make_client_report
):
    now = clock.now()
    for n in range(size):
        client = make_client(acm, last_contact_at=now - timedelta(days=5 + n % 5))
        meeting = make_meeting(
            client,
            acm,
            now + timedelta(minutes=10 + n),
            confirmation_due_at=now,
        )
        minutes = make_minutes(client, acm, now - timedelta(hours=n), meeting=None)
        make_action(minutes, date(2026, 11, 23))
        message = OutboxMessage(
            idempotency_key=f"qc-day-{size}-{n}",
            channel="email",
            client_id=client.id,
            to_addrs=["x@y.example"],
            subject="s",
            body="b",
            status=DeliveryStatus.FAILED.value,
            created_at=now,
        )
        db.session.add(
            TimelineEvent(
                client_id=client.id,
                kind=TimelineKind.MEETING_CONFIRMED.value,
                at=now,
                summary="Confirmation",
                detail={"meeting_id": meeting.id, "sequence": meeting.sequence},
                outbox_message=message,
            )
        )
        # P4: last month's report drafted and not sent.
        make_client_report(
            client, drafted_at=now - timedelta(days=20), due_at=now - timedelta(days=17)
        )
        # F2: an unanswered call whose follow-up email is owed; G6: a WhatsApp request.
        call = TimelineEvent(
            client_id=client.id,
            kind=TimelineKind.CALL.value,
            at=now,
            summary="Call: No answer",
            detail={"outcome": "no_answer"},
        )
        db.session.add(NoReplyLadder(client_id=client.id, call_event=call, started_at=now))
        db.session.add(
            TimelineEvent(
                client_id=client.id,
                kind=TimelineKind.WHATSAPP_RECEIVED.value,
                at=now,
                summary="WhatsApp from the client: hello",
                detail={"message": "hello", "contact_id": None},
            )
        )
    db.session.commit()


def test_the_day_issues_the_same_queries_for_5_or_100_clients(
    frozen_clock,
    db,
    make_team,
    make_user,
    make_client,
    make_meeting,
    make_minutes,
    make_action,
    make_client_report,
    login_as,
):
    counts = []
    for size in (5, 100):
        acm = make_user(Role.ACM, team=make_team(), timezone="Africa/Cairo")
        portfolio_with_items(
            db,
            acm,
            size,
            make_client,
            make_meeting,
            make_minutes,
            make_action,
            make_client_report,
        )
        http = login_as(acm)
        measured = {}
        for url, headers in {
            "/day/": {},
            "/": {},
            "/day/items/confirmations": {"HX-Request": "true"},
        }.items():
            with counting_queries(db.engine) as statements:
                response = http.get(url, headers=headers)
            assert response.status_code == 200
            measured[url] = len(statements)
        page = http.get("/day/").get_data(as_text=True)
        for name in (
            "meetings",
            "minutes",
            "actions",
            "confirmations",
            "no_reply",
            "whatsapp",
            "client_reports",
        ):
            assert_owed(page, name, size)
        counts.append(measured)
    assert counts[0] == counts[1]
    # One statement a section, a second for a few, and the page's own (the user, the session,
    # the header's badge of unread notifications).
    assert counts[1]["/day/"] <= len(day.SECTIONS) + 7, counts


def test_a_reassigned_clients_items_leave_the_old_acms_day_for_the_new_one(
    frozen_clock,
    db,
    make_team,
    make_user,
    make_client,
    make_meeting,
    make_minutes,
    make_action,
    login_as,
):
    """An ACM sees only the clients assigned to them: once a leader moves a client, its
    meetings, owed minutes, action items and unsent confirmations leave the old ACM's day
    (whose links would 404) and show on the new ACM's."""
    from kamportal.services import clients as clients_service

    now = clock.now()
    team = make_team()
    leader = make_user(Role.LEADER, team=team)
    team.leader = leader
    db.session.commit()
    mona = make_user(Role.ACM, team=team)
    karim = make_user(Role.ACM, team=team)
    moved = make_client(mona, store_name="Moved Store")
    make_meeting(moved, mona, now + timedelta(hours=2), confirmation_due_at=now)
    minutes = make_minutes(moved, mona, now - timedelta(days=1))
    make_action(minutes, date(2026, 11, 20), description="Moved action")
    clients_service.reassign_client(moved, actor=leader, new_acm=karim, reason="Workload")
    db.session.commit()

    page = login_as(mona).get("/day/").get_data(as_text=True)
    assert "Moved" not in page
    assert 'class="day-item' not in page
    page = login_as(karim).get("/day/").get_data(as_text=True)
    for name in ("meetings", "minutes", "actions", "confirmations"):
        assert len(items_of(page, name)) == 1, name


def test_each_rule_badge_says_why_in_words_and_overdue_items_stand_out(
    frozen_clock, mona, make_client, login_as
):
    """Issue 16: the badge's meaning on hover (title) and for screen readers (text); an
    overdue item carries the word and its own style."""
    make_client(acm=mona, store_name="Quiet Store", last_contact_at=None)
    page = login_as(mona).get("/day/").get_data(as_text=True)
    [item] = items_of(page, "followups")
    meaning = "Every live client is contacted at least once a week"
    assert f'<abbr class="badge rule" title="{meaning}">F1</abbr>' in item
    assert f'<span class="visually-hidden">: {meaning}.</span>' in item
    assert 'class="day-item overdue"' in item and ">Overdue</strong>" in item


def team_items(db, client) -> None:
    """What a leader's day lists of their team's clients: the welcome email owed (O2), a
    WhatsApp request not answered (G6) and an escalation waiting for the leader (E3)."""
    now = clock.now()
    db.session.add_all(
        [
            WelcomeEmail(client_id=client.id, subscribed_at=now - timedelta(hours=3), due_at=now),
            TimelineEvent(
                client_id=client.id,
                kind=TimelineKind.WHATSAPP_RECEIVED.value,
                at=now - timedelta(hours=1),
                summary="WhatsApp from the client: hello",
                detail={"message": "hello", "contact_id": None},
            ),
            Escalation(
                client_id=client.id,
                raised_at=now - timedelta(days=2),
                trigger="asked_for_manager",
                said="I want your manager",
                channel="call",
                current_step=LadderStep.LEADER.value,
                waiting_for_leader=True,
                step_started_at=now - timedelta(hours=5),
            ),
        ]
    )
    db.session.commit()


TEAM_SECTIONS = ("welcome", "whatsapp", "escalations")


def stores_on_day(http, section: str) -> list[str]:
    page = http.get("/day/").get_data(as_text=True)
    return sorted(re.findall(r"Store of (\w+)", " ".join(items_of(page, section))))


def test_a_leaders_day_lists_exactly_the_items_of_the_acms_of_the_teams_they_lead(
    frozen_clock, db, make_team, make_user, make_client, login_as
):
    """O2, G6, E3: a leader's day holds the team's welcome emails, WhatsApp requests and
    escalations waiting for them: those of every ACM of the teams they lead and of no
    other team. An ACM moved to another team takes theirs to the new team's leader."""
    cairo, dubai = make_team(name="Cairo"), make_team(name="Dubai")
    layla = make_user(Role.LEADER, team=cairo, name="Layla")
    hani = make_user(Role.LEADER, team=dubai, name="Hani")
    cairo.leader, dubai.leader = layla, hani
    db.session.commit()
    omar = make_user(Role.ACM, team=cairo, name="Omar")
    nour = make_user(Role.ACM, team=cairo, name="Nour")
    zed = make_user(Role.ACM, team=dubai, name="Zed")
    for acm in (omar, nour, zed):
        team_items(db, make_client(acm, store_name=f"Store of {acm.name}"))

    for section in TEAM_SECTIONS:
        assert stores_on_day(login_as(layla), section) == ["Nour", "Omar"], section
        assert stores_on_day(login_as(hani), section) == ["Zed"], section
        # An ACM sees their own welcome email and WhatsApp request, never the leader's E3.
        assert stores_on_day(login_as(omar), section) == (
            [] if section == "escalations" else ["Omar"]
        ), section

    admin = make_user(Role.ADMIN)
    accounts.update_user(
        nour,
        actor=admin,
        name=nour.name,
        roles=[Role.ACM],
        team=dubai,
        timezone=nour.timezone,
        phone=None,
        booking_link=None,
    )
    db.session.commit()
    for section in TEAM_SECTIONS:
        assert stores_on_day(login_as(layla), section) == ["Omar"], section
        assert stores_on_day(login_as(hani), section) == ["Nour", "Zed"], section


def test_a_leaders_and_an_admins_day_issue_the_same_queries_for_5_or_100_clients(
    frozen_clock,
    db,
    make_team,
    make_user,
    make_client,
    make_meeting,
    make_minutes,
    make_action,
    make_client_report,
    login_as,
):
    """The leader's team items (O2, G6, E3) and everything the ACMs owe on their clients,
    at two sizes: the leader's and an admin's day issue as many statements at both."""
    counts = []
    admin = make_user(Role.ADMIN)
    for size in (5, 100):
        team = make_team()
        leader = make_user(Role.LEADER, team=team)
        team.leader = leader
        db.session.commit()
        acm = make_user(Role.ACM, team=team, timezone="Africa/Cairo")
        portfolio_with_items(
            db, acm, size, make_client, make_meeting, make_minutes, make_action, make_client_report
        )
        for client in db.session.scalars(select(Client).where(Client.acm_id == acm.id)):
            team_items(db, client)
        measured = {}
        for who, user in (("leader", leader), ("admin", admin)):
            http = login_as(user)
            with counting_queries(db.engine) as statements:
                page = http.get("/day/").get_data(as_text=True)
            measured[who] = len(statements)
            if who == "leader":
                # portfolio_with_items logs a WhatsApp request of each client too.
                for name, per_client in (("welcome", 1), ("whatsapp", 2), ("escalations", 1)):
                    assert_owed(page, name, per_client * size)
        counts.append(measured)
    assert counts[0] == counts[1]
    # As the ACM's (one statement a section, a second for a few, the page's own); for the
    # leader one more for whose clients they see, asked once for every section, and the
    # roles of the team's ACMs the welcome and WhatsApp items name.
    assert counts[1]["leader"] <= len(day.SECTIONS) + 9, counts
    assert counts[1]["admin"] <= len(day.SECTIONS) + 7, counts


def test_a_day_owing_nothing_reads_no_section(
    frozen_clock, db, make_team, make_user, make_client, login_as
):
    """Issue 17: which sections hold anything is asked once, in one statement; those that
    hold nothing are shown empty without being read. An ACM whose one client was contacted
    today owes nothing: their day is that statement and the page's own."""
    acm = make_user(Role.ACM, team=make_team(), timezone="Africa/Cairo")
    make_client(acm, last_contact_at=clock.now())
    http = login_as(acm)
    with counting_queries(db.engine) as statements:
        page = http.get("/day/").get_data(as_text=True)
    for name in day.SECTIONS:
        assert_owed(page, name, 0)
    # The session and its user, the user's roles, the header's unread notifications, and
    # the one question to every section.
    assert len(statements) <= 5, statements
    assert sum("EXISTS" in statement for statement in statements) == 1


def test_a_long_section_shows_ten_at_a_time_the_longest_owed_first(
    db,
    frozen_clock,
    make_team,
    make_user,
    make_client,
    make_meeting,
    make_minutes,
    make_action,
    make_client_report,
    login_as,
):
    """Issue 17: no list grows with the portfolio. A section owing 25 items shows the 10
    owed longest, its pager the next 10 in place (HTMX) or on the whole day (without
    JavaScript); a page past the last is the last, a bad page number the first."""
    acm = make_user(Role.ACM, team=make_team(), timezone="Africa/Cairo")
    portfolio_with_items(
        db, acm, 25, make_client, make_meeting, make_minutes, make_action, make_client_report
    )
    http = login_as(acm)
    page = http.get("/day/").get_data(as_text=True)
    first = items_of(page, "minutes")
    assert_owed(page, "minutes", 25)
    assert 'href="/day/items/minutes?page=2"' in section_of(page, "minutes")

    second = http.get("/day/items/minutes?page=2", headers={"HX-Request": "true"})
    swapped = second.get_data(as_text=True)
    assert "<html" not in swapped and owed_in(swapped, "minutes") == 25
    shown = items_of(swapped, "minutes")
    assert len(shown) == 10 and not set(shown) & set(first)
    assert 'hx-get="/day/items/minutes?page=2"' in swapped  # the minute's refresh keeps it
    assert "Page 2 of 3" in swapped
    last = items_of(http.get("/day/items/minutes?page=3").get_data(as_text=True), "minutes")
    assert len(last) == 5 and not set(last) & set(first + shown)
    for page_number, expected in (("99", last), ("1e30", first), ("-1", first), ("\x00", first)):
        answer = http.get(f"/day/items/minutes?page={page_number}", headers={"HX-Request": "true"})
        assert answer.status_code == 200
        assert items_of(answer.get_data(as_text=True), "minutes") == expected, page_number


# The day's own named values, and those of whose clients the user sees (access.Reach).
NAMED = ("day_", "reach_")


def _values_of(question) -> tuple[list, list]:
    """A built question's values: those it holds as it was built, and its named ones (each
    as often as it is named), in order."""
    _, parameters = question._generate_cache_key()
    named = [(p.key, p.effective_value) for p in parameters if p.key.startswith(NAMED)]
    held = [p.effective_value for p in parameters if not p.key.startswith(NAMED)]
    return held, named


def test_the_days_question_differs_between_users_and_instants_only_by_its_named_values(
    app, db, make_team, make_user
):
    """Issue 17: the day's question is built once per process for each shape of reach and
    asked with the user's own values (`day._parameters`). Built afresh for users of one
    shape at other instants, it must hold the same values but the named ones, and those
    must be the ones the question is asked with; otherwise one user's day would be asked
    with another's ids or another day's dates."""
    cairo, dubai = make_team(timezone="Africa/Cairo"), make_team(timezone="Asia/Dubai")
    first_leader = make_user(Role.LEADER, team=cairo, timezone="Africa/Cairo")
    second_leader = make_user(Role.LEADER, team=dubai, timezone="Asia/Dubai")
    cairo.leader, dubai.leader = first_leader, second_leader
    for _ in range(3):
        make_user(Role.ACM, team=cairo)
    make_user(Role.ACM, team=dubai)
    pairs = {
        "acm": (make_user(Role.ACM, team=cairo), make_user(Role.ACM, timezone="America/Lima")),
        "leader": (first_leader, second_leader),
        "admin": (make_user(Role.ADMIN), make_user(Role.ADMIN, timezone="Asia/Tokyo")),
    }
    db.session.commit()
    instants = (datetime(2026, 11, 23, 9, tzinfo=UTC), datetime(2027, 3, 28, 23, 30, tzinfo=UTC))
    for shape, (one, other) in pairs.items():
        built = []
        for user, now in zip((one, other), instants, strict=True):
            reach = access.reach_of(user)
            held, named = _values_of(day._question(user, now, reach))
            asked = day._parameters(user, now, reach)
            assert named and all(asked[name] == value for name, value in named), shape
            built.append((held, named, day._shape(user, reach)))
        (held_one, named_one, shape_one), (held_other, named_other, shape_other) = built
        assert shape_one == shape_other, shape
        assert held_one == held_other, shape
        assert named_one != named_other, shape
