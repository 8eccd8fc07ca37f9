"""Meeting routes (rules G2, F3): the panel, the scheduling form in the client's zone with
the live preview in the ACM's, 422 with field errors, 404 for others' clients."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from kamportal import clock, queue
from kamportal.models import Role, TimelineEvent, TimelineKind
from kamportal.models.meetings import Meeting, MeetingStatus
from kamportal.services import meetings
from tests.conftest import sign_in

HX = {"HX-Request": "true"}
ZOOM = "https://zoom.us/j/81234567890"
# Frozen at 09:00 UTC = 11:00 in Cairo (EET, UTC+2).


@pytest.fixture
def world(frozen_clock, make_portfolio, login_as):
    portfolio = make_portfolio(
        leader=False,
        acm={"name": "Mona", "timezone": "Asia/Riyadh"},
        client={"timezone": "Africa/Cairo"},
        contact={"name": "Omar", "email": "omar@store.example", "is_primary": True},
    )
    return SimpleNamespace(**portfolio.as_dict(), http=login_as(portfolio.acm))


def _form(w, **changes) -> dict:
    data = {
        "kind": "weekly",
        "date": "2026-11-25",
        "time": "14:30",
        "duration_minutes": "30",
        "zoom_link": ZOOM,
        "agenda": "Catalogue review",
        "attendees": [str(w.contact.id)],
    }
    data.update(changes)
    return data


def _meetings(db) -> list[Meeting]:
    db.session.expire_all()
    return list(db.session.scalars(select(Meeting)))


def _schedule(w, starts_at=None) -> Meeting:
    return meetings.schedule_meeting(
        w.client,
        actor=w.acm,
        kind="weekly",
        starts_at=starts_at or datetime(2026, 11, 26, 10, 0, tzinfo=UTC),
        duration_minutes=30,
        zoom_link=ZOOM,
        agenda="",
        attendees=[w.contact],
    )


def test_client_page_shows_the_meetings_panel(world, db):
    meeting = _schedule(world)
    db.session.commit()
    page = world.http.get(f"/clients/{world.client.id}?tab=meetings").get_data(as_text=True)
    assert 'id="meetings-panel"' in page and "Schedule a meeting" in page
    assert f'id="meeting-{meeting.id}"' in page
    assert "Thu 26 Nov 2026 12:00 EET (Africa/Cairo)" in page
    assert "Confirmation due" in page


def test_schedule_form_is_in_the_clients_zone_with_a_live_preview(world):
    response = world.http.get(f"/clients/{world.client.id}/meetings/new", headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and 'id="new-meeting-form"' in html
    assert "Africa/Cairo" in html
    assert 'hx-trigger="input changed delay:300ms"' in html
    assert f"/clients/{world.client.id}/meetings/preview?for=new-meeting" in html
    assert 'hx-include="#new-meeting-date, #new-meeting-time"' in html
    assert "<script" not in html and "style=" not in html and "hx-on" not in html
    # The primary contact is chosen by default.
    assert re.search(
        rf'value="{world.contact.id}"[^>]*checked|checked[^>]*value="{world.contact.id}"', html
    )


def test_preview_shows_the_instant_in_the_acms_zone(world):
    response = world.http.get(
        f"/clients/{world.client.id}/meetings/preview",
        query_string={"for": "new-meeting", "date": "2026-11-25", "time": "14:30"},
        headers=HX,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="new-meeting-preview"' in html
    assert "Wed 25 Nov 2026 14:30 EET (Africa/Cairo)" in html
    assert "Wed 25 Nov 2026 15:30 +03 (Asia/Riyadh)" in html and "Mona" in html


def test_preview_flags_short_notice_and_bad_input(world):
    url = f"/clients/{world.client.id}/meetings/preview"
    soon = world.http.get(url, query_string={"date": "2026-11-23", "time": "13:00"}, headers=HX)
    assert "rule F3 needs a reason" in soon.get_data(as_text=True)
    partial = world.http.get(url, query_string={"date": "2026-11-23", "time": ""}, headers=HX)
    assert partial.status_code == 200 and "Type the date and time" in partial.get_data(as_text=True)
    assert world.http.get(url, query_string={"for": "<x>"}, headers=HX).status_code == 400


def test_scheduling_returns_the_panel_and_plans_the_confirmation(world, db):
    response = world.http.post(
        f"/clients/{world.client.id}/meetings/new", data=_form(world), headers=HX
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["HX-Retarget"] == "#meetings-panel"
    assert "timeline-changed" in response.headers["HX-Trigger"]
    assert "meeting-changed" in response.headers["HX-Trigger"]  # the ACM's day listens
    html = response.get_data(as_text=True)
    assert 'id="meetings-panel"' in html and "Wed 25 Nov 2026 14:30 EET" in html
    (meeting,) = _meetings(db)
    assert meeting.starts_at == datetime(2026, 11, 25, 12, 30, tzinfo=UTC)
    assert meeting.confirmation_due_at == datetime(2026, 11, 24, 12, 30, tzinfo=UTC)
    assert queue.scheduled_at(meetings.confirm_job_id(meeting.id, 0)) == meeting.confirmation_due_at


def test_scheduling_without_htmx_redirects_to_the_client_page(world, db):
    response = world.http.post(f"/clients/{world.client.id}/meetings/new", data=_form(world))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(
        f"/clients/{world.client.id}?tab=meetings#meetings-panel"
    )


def test_f3_two_hours_ahead_is_refused_with_the_reason_offered(world, db):
    url = f"/clients/{world.client.id}/meetings/new"
    # 13:00 in Cairo = 11:00 UTC: two hours from the frozen 09:00 UTC.
    response = world.http.post(url, data=_form(world, date="2026-11-23", time="13:00"), headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "at least 4 hours" in html and "2 h 00 min" in html
    assert '<details class="short-notice" open>' in html
    assert _meetings(db) == []

    response = world.http.post(
        url,
        data=_form(world, date="2026-11-23", time="13:00", short_notice_reason="Launch blocker"),
        headers=HX,
    )
    assert response.status_code == 200
    (meeting,) = _meetings(db)
    assert meeting.short_notice_reason == "Launch blocker"
    kinds = set(db.session.scalars(select(TimelineEvent.kind)))
    assert TimelineKind.SHORT_NOTICE.value in kinds


def test_f3_refusal_without_htmx_shows_the_whole_page(world, db):
    response = world.http.post(
        f"/clients/{world.client.id}/meetings/new",
        data=_form(world, date="2026-11-23", time="13:00"),
    )
    assert response.status_code == 422
    assert "<html" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"zoom_link": "https://meet.example/j/81234567890"}, "zoom.us meeting link"),
        ({"zoom_link": ""}, "Zoom link"),
        ({"attendees": []}, "Choose who attends"),
        ({"date": ""}, "Give the date"),
        ({"date": "2026-11-20"}, "This time has passed"),
    ],
)
def test_bad_input_gives_422_with_field_errors(world, db, changes, message):
    response = world.http.post(
        f"/clients/{world.client.id}/meetings/new", data=_form(world, **changes), headers=HX
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _meetings(db) == []


def test_attendees_of_another_client_are_ignored(world, db, make_client, make_contact):
    stranger = make_contact(make_client(acm=world.acm), email="x@other.example")
    response = world.http.post(
        f"/clients/{world.client.id}/meetings/new",
        data=_form(world, attendees=[str(stranger.id)]),
        headers=HX,
    )
    assert response.status_code == 422 and _meetings(db) == []


def test_others_clients_and_meetings_are_hidden(world, db, login_as, make_client, make_contact):
    meeting = _schedule(world)
    db.session.commit()
    other = login_as(Role.ACM)
    client_id = world.client.id
    assert other.get(f"/clients/{client_id}/meetings/new").status_code == 404
    assert other.post(f"/clients/{client_id}/meetings/new", data=_form(world)).status_code == 404
    assert other.get(f"/clients/{client_id}/meetings/preview", headers=HX).status_code == 404
    assert other.get(f"/clients/{client_id}/meetings", headers=HX).status_code == 404
    for action in ("reschedule", "cancel", "held", "no-show"):
        assert other.get(f"/meetings/{meeting.id}/{action}").status_code == 404
        assert other.post(f"/meetings/{meeting.id}/{action}", data={}).status_code == 404
    assert world.http.get("/meetings/999/cancel").status_code == 404
    assert login_as(Role.FINANCE).get(f"/clients/{client_id}/meetings/new").status_code == 403


def test_the_teams_leader_may_schedule(world, db, make_user):
    leader = make_user(Role.LEADER, team=world.acm.team)
    world.acm.team.leader = leader
    db.session.commit()
    http = world.http.application.test_client()
    sign_in(http, leader)
    response = http.post(f"/clients/{world.client.id}/meetings/new", data=_form(world), headers=HX)
    assert response.status_code == 200
    (meeting,) = _meetings(db)
    assert meeting.organizer_id == world.acm.id


def test_panel_refresh_is_a_fragment_and_a_plain_request_goes_to_the_client_page(world):
    url = f"/clients/{world.client.id}/meetings"
    fragment = world.http.get(url, headers=HX)
    assert fragment.status_code == 200 and 'id="meetings-panel"' in fragment.get_data(as_text=True)
    plain = world.http.get(url)
    assert plain.status_code == 302 and plain.headers["Location"].endswith("#meetings-panel")


def test_reschedule_form_is_prefilled_and_moves_the_meeting(world, db):
    meeting = _schedule(world)
    db.session.commit()
    url = f"/meetings/{meeting.id}/reschedule"
    html = world.http.get(url, headers=HX).get_data(as_text=True)
    assert f'id="meeting-{meeting.id}-form"' in html and 'value="12:00"' in html
    assert f'id="meeting-{meeting.id}-preview"' in html
    response = world.http.post(
        url, data=_form(world, date="2026-11-27", time="10:00", kind=None), headers=HX
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    db.session.expire_all()
    assert meeting.sequence == 1
    assert meeting.starts_at == datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    unchanged = world.http.post(
        url, data=_form(world, date="2026-11-27", time="10:00", kind=None), headers=HX
    )
    assert unchanged.status_code == 422 and "Nothing changed" in unchanged.get_data(as_text=True)


def test_cancel_needs_a_reason(world, db):
    meeting = _schedule(world)
    db.session.commit()
    url = f"/meetings/{meeting.id}/cancel"
    assert f'id="meeting-{meeting.id}-cancel-form"' in world.http.get(url, headers=HX).get_data(
        as_text=True
    )
    refused = world.http.post(url, data={"reason": ""}, headers=HX)
    assert refused.status_code == 422 and "Say why" in refused.get_data(as_text=True)
    done = world.http.post(url, data={"reason": "Client travelling"}, headers=HX)
    assert done.status_code == 200 and done.headers["HX-Retarget"] == "#meetings-panel"
    db.session.expire_all()
    assert meeting.status == MeetingStatus.CANCELLED
    assert "Client travelling" in done.get_data(as_text=True)


def test_g2_mark_held_needs_the_recording_link(world, db):
    meeting = _schedule(world)
    db.session.commit()
    url = f"/meetings/{meeting.id}/held"
    early = world.http.post(url, data={"recording_link": "https://zoom.us/rec/1"}, headers=HX)
    assert early.status_code == 422 and "not started" in early.get_data(as_text=True)
    clock.advance(timedelta(days=3, hours=2))
    sign_in(world.http, world.acm)  # days later: a new sign-in
    missing = world.http.post(url, data={"recording_link": ""}, headers=HX)
    assert missing.status_code == 422 and "recording link" in missing.get_data(as_text=True)
    done = world.http.post(url, data={"recording_link": "https://zoom.us/rec/share/1"}, headers=HX)
    assert done.status_code == 200
    db.session.expire_all()
    assert meeting.status == MeetingStatus.HELD
    assert meeting.recording_link == "https://zoom.us/rec/share/1"


def test_no_show(world, db):
    meeting = _schedule(world)
    db.session.commit()
    clock.advance(timedelta(days=3, hours=2))
    sign_in(world.http, world.acm)  # days later: a new sign-in
    page = world.http.get(f"/clients/{world.client.id}?tab=meetings").get_data(as_text=True)
    assert "Mark held" in page and "No-show" in page
    response = world.http.post(f"/meetings/{meeting.id}/no-show", data={}, headers=HX)
    assert response.status_code == 200
    db.session.expire_all()
    assert meeting.status == MeetingStatus.NO_SHOW


def test_the_meetings_panel_costs_the_client_page_one_query_however_many_meetings(
    world, db, make_contact
):
    from tests.blueprints.test_query_counts import counting_queries

    def client_page_queries() -> int:
        with counting_queries(db.engine) as statements:
            assert world.http.get(f"/clients/{world.client.id}?tab=meetings").status_code == 200
        return len(statements)

    _schedule(world)
    db.session.commit()
    one = client_page_queries()
    second = make_contact(world.client, email="second@store.example")
    for day in range(2, 8):
        meetings.schedule_meeting(
            world.client,
            actor=world.acm,
            kind="qbr",
            starts_at=datetime(2026, 11, 26, 10, 0, tzinfo=UTC) + timedelta(days=day),
            duration_minutes=60,
            zoom_link=ZOOM,
            agenda="",
            attendees=[world.contact, second],
        )
    db.session.commit()
    assert client_page_queries() == one


def test_editing_only_the_agenda_at_the_second_0130_of_a_fall_back_night_keeps_the_time(
    world, db, frozen_clock, login_as
):
    """F3: New York falls back on Sunday 7 Nov 2027; 01:30 comes at 05:30 UTC (EDT) and
    again at 06:30 UTC (EST). A confirmed meeting at the second one whose agenda alone is
    edited keeps its instant: the form round-trips the occurrence, and the client gets an
    "Updated" invite, not a "Moved" one. A time typed afresh is still the first one."""
    frozen_clock(datetime(2027, 11, 1, 12, 0, tzinfo=UTC))
    world.http = login_as(world.acm)  # signed in that day
    world.client.timezone = "America/New_York"
    db.session.commit()
    second = datetime(2027, 11, 7, 6, 30, tzinfo=UTC)
    meeting = _schedule(world, second)
    db.session.commit()
    assert meetings.queue_confirmation(meeting, sequence=0) is not None  # invite sent
    db.session.commit()

    url = f"/meetings/{meeting.id}/reschedule"
    html = world.http.get(url, headers=HX).get_data(as_text=True)
    assert 'value="2027-11-07"' in html and 'value="01:30"' in html
    assert "Sun 07 Nov 2027 01:30 EST (America/New_York)" in html  # the preview
    preview = world.http.get(
        f"/clients/{world.client.id}/meetings/preview",
        query_string={
            "for": f"meeting-{meeting.id}",
            "meeting": meeting.id,
            "date": "2027-11-07",
            "time": "01:30",
        },
        headers=HX,
    ).get_data(as_text=True)
    assert "01:30 EST" in preview

    response = world.http.post(
        url,
        data=_form(world, date="2027-11-07", time="01:30", agenda="Holiday plans", kind=None),
        headers=HX,
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    db.session.expire_all()
    assert meeting.starts_at == second and meeting.agenda == "Holiday plans"
    update = meetings.queue_confirmation(meeting, sequence=meeting.sequence)
    assert update.subject.startswith("Updated:") and "01:30 EST" in update.subject
    db.session.commit()
    [changed] = db.session.scalars(
        select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.MEETING_RESCHEDULED.value)
    )
    assert changed.detail["changed"] == ["agenda"]

    # Typed afresh (another time, then 01:30 again), an ambiguous time is the first one.
    world.http.post(url, data=_form(world, date="2027-11-07", time="03:00", kind=None), headers=HX)
    world.http.post(url, data=_form(world, date="2027-11-07", time="01:30", kind=None), headers=HX)
    db.session.expire_all()
    assert meeting.starts_at == datetime(2027, 11, 7, 5, 30, tzinfo=UTC)
